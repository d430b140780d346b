"""Document templates and sentence pools for the synthetic generator (vault.train.generate).

Plain data only. Each kind has a split ("train" or "heldout"), a few whole-document templates in
different layouts, a pool of sentences that fill the body blocks, and for some kinds a pool of
chat lines. No template or sentence is shared between kinds, so held-out kinds are held out in
their wording too.

Slot syntax inside templates and sentences (no nesting, no other braces):

  {role.attr}     an attribute of a person playing `role` in the document, e.g. {patient.full},
                  {doctor.dr}, {tenant.email}. The same role is the same person throughout a
                  document. A role ending in "+" ({other+.full}) is local to one sentence: a new
                  person each time the sentence is used. In chat lines, `me` is the speaker and
                  `you` another participant.
  {name}          a generated value (see generate.SLOTS), e.g. {date}, {city}, {invoice_no}.
                  Trailing digits name another instance ({date2}); the same name is the same
                  value throughout a document. A trailing "+" ({date+}) makes it local to one
                  sentence.
  {!name}         a hard negative: plain text that looks like an entity but is not one
                  ({!drug}, {!version}, {!pct}, {!page}, ...); see generate.NEGATIVES.
  {|a|b|c}        one of the alternatives, as plain text.
  {@block}        a block filled by the generator: @body (prose paragraphs), @bullets,
                  @numbered:START, @log, @chat:ROLE,ROLE[,ROLE], @table:NAME.

A chat line starts with "A: ", "B: ", "C: " (the template's first, second, third chat role) or
"*: " (any participant). Pools are shuffled, except those a kind lists under "ordered" (a
scripted conversation), which keep their order and are used once.
"""

KINDS: dict[str, dict] = {
    # ------------------------------------------------------------------ training kinds
    "clinical_note": {
        "split": "train",
        "templates": [
            """{hospital} — {|Outpatient Clinic|Department of Internal Medicine|Emergency Department|Cardiology Unit}
{|CLINICAL NOTE|Clinical Note|Progress note|CONSULTATION NOTE}

Patient: {patient.full}    MRN: {mrn}
DOB: {patient.dob}    Seen: {date} at {time}
Clinician: {doctor.dr}

{patient.title} is {patient.a_age} {patient.job} who presents with {|worsening|recurrent|new onset of|intermittent} {|chest pain|shortness of breath|headaches|abdominal pain|fatigue|dizziness}. {patient.He} lives in {patient.city} and can be reached on {patient.phone}.

{@body}

Assessment: {diagnosis}.
Plan: start {!drug} {!dose} {|once daily|twice daily|at night}; review after the next blood test. Next appointment booked for {date2}.

{doctor.dr}
{hospital}""",
            """PATIENT DETAILS
Name: {patient.formal}
Date of birth: {patient.dob}
Sex: {patient.sex}
Address: {patient.addr}
Phone: {patient.phone}
E-mail: {patient.email}
Insurance no.: {policy_no}
SSN / national ID: {patient.ssn}
Next of kin: {kin.full} ({kin.child}), {kin.phone}

ADMISSION
Admitted: {datetime}
Ward: {|4B|Ward 7|Oak Ward|ICU|Level 3 East}
Attending: {doctor.dr}
Reason for admission: {diagnosis}
Medications on admission: {!drug}, {!drug2}

NOTES
{@bullets}""",
            """From: {doctor.email}
To: {doctor2.email}
Date: {email_date}
Subject: Referral – {patient.full}, DOB {patient.dob}

Dear {doctor2.dr},

Thank you for seeing {patient.title} ({patient.age_words}, {patient.nationality}), whom I have been treating at {clinic} since {year}. {@body}

Current medication: {!drug} {!dose}. Known allergies: {|none|penicillin|latex|nuts}.

Kind regards,
{doctor.dr}
{clinic} | {phone}""",
        ],
        "sentences": [
            "On examination {patient.he} was alert and oriented, temperature {!temp}, blood pressure {!bp}.",
            "{patient.He} reports {|poor sleep|reduced appetite|no weight loss|occasional palpitations} since the last visit.",
            "Bloods taken on {date+} showed {|a raised CRP|normal renal function|mild anaemia|an elevated HbA1c}.",
            "{patient.His} {kin.child} {kin.first} accompanied {patient.him} to the appointment.",
            "{patient.He} was previously under the care of {doctor3.dr} at {hospital2}.",
            "{patient.He} has a history of {diagnosis2}, first diagnosed in {year+}.",
            "{patient.He} works as {patient.a_job} at {org} and has been off work since {date+}.",
            "The patient is a practising {patient.religion} and asked for {|a female clinician|a chaplain visit|a visit from the hospital chaplain}.",
            "Imaging was discussed at the Monday meeting and no further action is needed.",
            "See page {!page} of the discharge summary for the full medication list.",
            "{patient.He} drinks about {!qty} units of alcohol per week and does not smoke.",
            "{patient.He} was advised to take {!drug} {!dose} as needed and to increase fluid intake.",
            "Results were uploaded to the {!software} portal; {patient.he} will get a message at {patient.email}.",
            "A follow-up call with {nurse.full} was arranged for {date+} at {time+}.",
            "Weight {!weight}, BMI {!bmi}, oxygen saturation {!pct} on room air.",
            "The Hospital policy on consent ({!version}) was followed and the patient signed the form.",
            "{patient.He} travelled recently from {country+} and reports no contact with sick people.",
            "{patient.His} {|GP|family doctor|previous consultant}, {doctor4.dr}, faxed the old notes from {city+}.",
            "{patient.He} lives with {patient.his} {spouse.spouse}, {spouse.first}, at {patient.addr1}.",
            "Ultrasound was booked at {hospital} on {date+}; transport will collect {patient.him} from home.",
            "Dose of {!drug} reduced to {!dose} because of {|nausea|low blood pressure|dizziness}.",
            "The patient asked that {patient.his} employer, {org}, is not informed of the diagnosis.",
            "{patient.He} was seen in the {|fracture clinic|diabetes clinic|memory clinic|pain clinic} on {date+} by {doctor3.dr}.",
            "ECG showed sinus rhythm; no acute changes compared with the tracing from {date+}.",
            "{patient.He} is {patient.a_nationality} national and needed an interpreter for the consultation.",
            "Social history: retired {patient.job}, independent with daily activities, walks with a stick.",
            "Discussed with the on-call registrar, {doctor4.full}, who agreed with the plan.",
            "A letter was sent to {patient.his} home address, {patient.addr1}, with the appointment details.",
            "{patient.He} declined the flu vaccine this year.",
            "Family history of {diagnosis3} in {patient.his} {|father|mother|grandmother|uncle}.",
            "Chest X-ray reviewed at {time+}: no consolidation, no effusion.",
            "Contact number updated to {patient.phone} at {patient.his} request.",
        ],
    },
    "hr_email": {
        "split": "train",
        "templates": [
            """From: {hr.full} <{hr.email}>
To: {employee.email}
Cc: {manager.email}
Date: {email_date}
Subject: {|Your contract renewal|Salary review outcome|Sick leave follow-up|Relocation|Disciplinary meeting}

Dear {employee.first},

{@body}

{|Best regards|Kind regards|Many thanks|Regards},
{hr.full}
{hr.job}, {org}
{|Tel|Phone|T}: {hr.phone}""",
            """EMPLOYEE RECORD — CONFIDENTIAL
Employee: {employee.formal}
Employee ID: {emp_id}
Position: {employee.job}
Department: {|Finance|Logistics|Customer Care|Engineering|Sales|Facilities}
Line manager: {manager.full}
Start date: {date}
Annual salary: {salary}
Bank account (IBAN): {employee.iban}
National insurance / SSN: {employee.ssn}
Home address: {employee.addr}
Emergency contact: {kin.full}, {kin.phone}

Notes:
{@bullets}""",
            """Hi {|all|team|everyone},

Please find below the {|rota|staffing changes|list of new starters} for {month}. {@body}

{@table:staff}

Thanks,
{manager.first}
--
{manager.full} | {org} | {manager.phone}""",
        ],
        "sentences": [
            "Following our meeting on {date+}, I can confirm that your salary will increase to {salary+} from {date2+}.",
            "As discussed with {manager.full}, your probation period has been extended.",
            "Your sick note from {doctor.dr} covering {date+} to {date2+} has been received.",
            "Please return the signed contract to {hr.email} by {date+}.",
            "The {|Monday meeting|quarterly review|all-hands|team stand-up} has moved to room {!qty} on the second floor.",
            "We have approved your request for religious leave as a {employee.religion} on {date+}.",
            "Your relocation allowance of {amount+} will be paid into account {employee.iban}.",
            "A copy of this letter has been placed in your personnel file (reference {emp_id}).",
            "If you have any questions, call me on {hr.phone} or message me on {!software}.",
            "From next month your desk will be at our office at {address+}.",
            "The policy is described in Section {!section} of the Employee Handbook ({!version}).",
            "{employee.first} has completed {!pct} of the mandatory training modules.",
            "While you are away, {colleague.full} will cover your duties.",
            "Please confirm your social security number ({employee.ssn}) so that payroll can process the change.",
            "You mentioned that you are {employee.age_words} and would like to discuss early retirement.",
            "Your laptop (serial {serial}) must be returned to IT before your last day on {date+}.",
            "The investigation into the complaint by {other+.full} was closed on {date+}.",
            "Payroll noticed that your tax code changed; please check your payslip for {month+}.",
            "Welcome aboard: {newstarter+.full} joins us as {newstarter+.a_job} on {date+}.",
            "Occupational health ({clinic}) will contact you on {employee.phone} to book an assessment.",
            "Your visa sponsorship as {employee.a_nationality} national has been renewed until {date+}.",
            "The bonus of {amount+} will appear on the payslip for {month+}.",
            "Your annual leave balance for this year is {!qty} days.",
            "The meeting with {manager.title} and a union representative is set for {date+} at {time+}.",
            "Please bring your passport ({employee.passport}) on your first day for the right-to-work check.",
            "Your new employee number is {emp_id} and your login will be sent to {employee.email}.",
            "Expenses of {amount+} for your trip to {city+} were approved by {manager.first}.",
            "Your part-time request (four days a week) has been agreed from {month+}.",
            "The grievance raised by {colleague.full} has been forwarded to {org2} for an independent review.",
            "Your home address has been updated to {employee.addr1} in our records.",
            "Please complete the {!software} onboarding checklist before Friday.",
        ],
    },
    "support_ticket": {
        "split": "train",
        "templates": [
            """Ticket #{ticket}
Status: {|Open|Pending|Resolved|Escalated}
Priority: {|P1|P2|P3|Low|High}
Created: {datetime}
Customer: {customer.full} ({customer.email})
Account: {customer_id}
Product: {!product} {!version}
Assigned to: {agent.first}

Description:
{@body}

Internal notes:
{@bullets}""",
            """From: {customer.email}
To: {support_email}
Subject: Re: [#{ticket}] {|Cannot log in|Refund request|Order not delivered|App crashes on start|Billing error}

Hi {agent.first},

{@body}

My order number is {order_no} and I ordered on {date}. You can call me back on {customer.phone}.

Thanks,
{customer.full}
{customer.addr}

> On {date2}, {agent.full} wrote:
> Thank you for contacting {org} support. Could you please send us your order number?""",
            """=== Support session {ref} ===
Agent: {agent.full}    Customer: {customer.first}
Started: {datetime}
Client IP: {ip}    Browser: {|Chrome|Firefox|Safari|Edge} {!version}

{@chat:agent,customer}

Session closed at {time}. Rating: {|5/5|4/5|3/5}.""",
        ],
        "sentences": [
            "I have been unable to log in since {date+}; the app says {!error}.",
            "I tried resetting my password but the e-mail never arrived at {customer.email}.",
            "The last successful login was from {ip+} and then from {ipv6+}.",
            "I was charged {amount+} twice on my card {customer.card}.",
            "Please refund the amount to my account {customer.iban}.",
            "I updated the app to {!version} and now it crashes on {|my tablet|startup|the payment screen}.",
            "My delivery address is {customer.addr1}, not the old one in {city+}.",
            "I ordered {!count} but only {!count2} arrived.",
            "Customer called from {customer.phone} and was verified with date of birth {customer.dob}.",
            "Escalated to {agent2.full} in second-line support.",
            "Refund of {amount+} approved on {date+}.",
            "Known issue, fix planned for release {!version}.",
            "Customer mentioned they are moving to {country+} next month.",
            "Reproduced on {!qty} test devices running {!version}.",
            "Please use {!software} to send the screenshots, attachments over 10 MB bounce.",
            "The customer's public profile {customer.url} shows the wrong company name.",
            "Duplicate of ticket #{ticket+}, merged.",
            "The parcel was signed for by {neighbour+.full} at {time+} on {date+}.",
            "Customer is {customer.a_job} and needs the invoice addressed to {org2}.",
            "Chargeback opened by {bank} on {date+}.",
            "Customer is using {!product} with firmware {!version}.",
            "Sent a replacement to {customer.addr1} via courier, tracking {order_no+}.",
            "Customer asked us to delete all personal data under Article {!article} of the GDPR.",
            "Second account found under {customer.email}, linked to phone {customer.phone}.",
            "Payment failed with {!error}; the bank ({bank}) confirmed the card is active.",
            "Called the customer back at {time+}, no answer, left a voicemail.",
            "The customer's colleague {other+.full} ({other+.email}) should be copied on replies.",
            "Closing the ticket after {!qty} days without reply.",
        ],
        "ordered": ["chat"],  # the chat lines are one conversation, in order
        "chat": [
            "A: Hello, my name is {me.first}, how can I help you today?",
            "B: Hi, I can't get into my account, the e-mail on it is {me.email}.",
            "A: I'm sorry to hear that. Could you confirm your date of birth and postcode please?",
            "B: Sure, it's {me.dob} and {me.postcode}.",
            "A: Thank you. I can see two failed logins from {ip+} today, was that you?",
            "B: No idea, I'm at home in {me.city} and use version {!version} of the app.",
            "A: I've unlocked the account and sent a reset link.",
            "B: Also the last invoice charged {amount+} to my card {me.card}, which is wrong.",
            "A: I'll raise a refund request under reference {ref+}.",
            "B: Can you call me on {me.phone} instead? Typing on the phone is a pain.",
            "A: Of course. Is the delivery address still {me.addr1}?",
            "B: yes",
            "A: Is there anything else I can help you with?",
            "B: No, that's all, thanks {you.first}!",
            "*: one moment please",
        ],
    },
    "invoice": {
        "split": "train",
        "templates": [
            """{org}
{address}
VAT no.: {vat}
{|INVOICE|Invoice|TAX INVOICE}

Invoice number: {invoice_no}
Invoice date: {date}
Due date: {date2}
Customer no.: {customer_id}

Bill to:
{customer.full}
{customer.addr}

{@table:invoice}

Total due: {amount}
Please pay by bank transfer to {iban} quoting {invoice_no}.
{@body}

Page 1 of {!page}""",
            """Dear {customer.title},

Please find enclosed invoice {invoice_no} dated {date} for {amount}, covering {|consulting services|the repair of your boiler|your subscription|catering for the event} in {month}.

{@body}

Payment details: IBAN {iban}, account holder {org}. Card payments can be made online at {url}.

Yours sincerely,
{accounts.full}
Accounts Department, {org}
{phone} · {accounts.email}""",
            """RECEIPT {invoice_no}
--------------------------------
Date:      {datetime}
Customer:  {customer.initial}
Card:      {customer.card}
Items:
{@table:invoice}
--------------------------------
TOTAL      {amount}
Thank you for shopping at {org}!

{@bullets}""",
        ],
        "sentences": [
            "A late payment fee of {!pct} per month applies after the due date.",
            "The goods were delivered to {customer.street} on {date+}.",
            "For questions about this invoice contact {accounts.full} on {accounts.phone}.",
            "Your previous balance of {amount+} was settled on {date+}, thank you.",
            "Prices include VAT at {!pct}.",
            "Order {order_no} was shipped as {!count}.",
            "Please note our new bank details: {iban+}.",
            "This invoice replaces invoice {invoice_no+}, which was issued in error.",
            "Delivery address: {customer.addr1}.",
            "Please quote your customer number {customer_id} with every payment.",
            "Our terms and conditions are set out in Section {!section} of the framework agreement.",
            "Work carried out by our engineer {engineer.full} on {date+}.",
            "A discount of {!pct} was applied because the delivery was late.",
            "Returns are accepted within 30 days with the original receipt.",
            "Remittance advice can be e-mailed to {accounts.email}.",
            "Payment received from card {customer.card} on {date+}.",
            "Goods remain the property of {org} until paid in full.",
            "Installation was booked for {date+} between {time+} and {time2+}.",
            "We have recorded your VAT number as {vat}.",
            "Your account manager is {accounts.full} ({accounts.email}).",
            "An interim payment of {amount+} was received by bank transfer from {iban+}.",
            "Please allow {!qty} working days for the transfer to reach us.",
            "The item {!product} is on back order and will be invoiced separately.",
        ],
    },
    "court_report": {
        "split": "train",
        "templates": [
            """{|JUDGMENT|DECISION|REPORT OF PROCEEDINGS}

Case of {applicant.last} v. {country}
(Application no. {case_no})

PROCEDURE
1. The case originated in an application against {country} lodged with the Court on {date} by {applicant.a_nationality} national, {applicant.title} ("the applicant").
2. The applicant was represented by {lawyer.full}, a lawyer practising in {city}.

THE FACTS
3. The applicant was born in {applicant.birth_year} and lives in {applicant.city}.
{@numbered:4}

THE LAW
The applicant complained under Article {!article} of the Convention about the length of the proceedings.""",
            """{court}
Case number: {case_no}
Hearing date: {date}, {time}
Judge: {judge.title}
Claimant: {claimant.full}, {claimant.addr1}
Defendant: {defendant.full}, represented by {lawyer.full} of {org}
Clerk: {clerk.initial}

SUMMARY OF PROCEEDINGS
{@body}

ORDER
The Court orders the defendant to pay the claimant {amount} within {|14|28|30} days. Costs are reserved. The next hearing is listed for {date2}.""",
            """Court report – {court}
Prepared by {clerk.full} on {date}

Parties
- Applicant: {applicant.full} ({applicant.age_words}, {applicant.job})
- Respondent: {org}
- Counsel: {lawyer.full}

Key points
{@bullets}

Outcome: {|adjourned|dismissed|granted in part|settled}. Next listing: {date2}.""",
        ],
        "sentences": [
            "On {date+} the applicant was arrested in {city+} and taken to the police station at {address+}.",
            "The applicant, who is of {applicant.ethnicity} origin, alleged that the police had discriminated against {applicant.him}.",
            "On {date+} the {court2} dismissed the applicant's appeal.",
            "The applicant's {spouse.spouse}, {spouse.full}, gave evidence on {date+}.",
            "Under Article {!article} of the Convention the Court must examine whether the interference was necessary.",
            "The Government submitted that the complaint was inadmissible (see paragraph {!qty} above).",
            "The applicant claimed {amount+} in respect of non-pecuniary damage.",
            "{witness.full}, who lives at {witness.addr1}, testified that {witness.he} saw the applicant on {date+}.",
            "The applicant's lawyer, {lawyer.title}, requested a copy of the file on {date+}.",
            "The public prosecutor in {city+} opened criminal proceedings under number {case_no+}.",
            "The applicant, who is {applicant.religion}, complained about the lack of a suitable diet in detention.",
            "The medical report by {doctor.dr} recorded {injury}.",
            "The Court notes that the applicant worked as {applicant.a_job} at {org2} until {date+}.",
            "The hearing was adjourned because the interpreter was not available.",
            "The applicant was released on {date+} after paying bail of {amount+}.",
            "According to the applicant, {officer.rank} threatened {applicant.him} during questioning.",
            "The Court reiterates its case-law set out in Section {!section} of the Rules of Court.",
            "The applicant's telephone {applicant.phone} was intercepted from {date+} to {date2+}.",
            "The applicant's mother, {mother.full}, lives in {mother.city} and visited {applicant.him} in prison on {date+}.",
            "The Regional Court held a hearing on {date+} in the absence of the applicant.",
            "The applicant was detained at {address+} until {date+}.",
            "The applicant was employed by {org} as {applicant.a_job} and earned {salary+} a year.",
            "An expert, {doctor.dr}, examined the applicant on {date+} and found {injury2}.",
            "The applicant did not lodge a constitutional complaint.",
            "On {date+} the applicant's lawyer sent a letter to the {court2} asking for the case to be expedited.",
            "The applicant, then {applicant.age_words}, was questioned for {!qty} hours without a lawyer.",
        ],
    },
    "police_report": {
        "split": "train",
        "templates": [
            """{police}
INCIDENT REPORT
Incident no.: {incident_no}
Date/time reported: {datetime}
Reporting officer: {officer.rank}, badge {badge}
Location: {address}

Victim: {victim.full}, DOB {victim.dob}, {victim.phone}
Suspect: {suspect.full} ({suspect.age_words}, {suspect.nationality})
Suspect vehicle: {vehicle}, registration {plate}

Narrative:
{@body}""",
            """WITNESS STATEMENT
Statement of: {witness.full}
Age: {witness.age_num}    Occupation: {witness.job}
Address: {witness.addr}

I, {witness.full}, make this statement voluntarily. On {date} at about {time} I was {|walking my dog|waiting at the bus stop|driving home|leaving work} on {street} in {city} when I saw {|a man|a woman|two people} {|arguing|running|trying to open a car door}. {@body}

Signed: {witness.initial}    Date: {date2}
Witnessed by: {officer.rank} ({badge})""",
            """Shift log – {police} – {date}
Officer on duty: {officer.full}

{@log}

End of shift. Handover to {officer2.rank}.""",
        ],
        "sentences": [
            "The suspect was described as {suspect.age_words}, about {!height} tall, wearing a {|dark hoodie|red jacket|grey tracksuit}.",
            "A {vehicle+} was seen leaving the scene towards {city+}.",
            "The victim's phone, {!product}, was taken along with {amount+} in cash.",
            "CCTV footage from {org+} was requested on {date+}.",
            "{suspect.title} was arrested at {time+} and taken to {police}.",
            "The victim stated that the suspect had sent {victim.him} messages from {suspect.phone}.",
            "A search of the vehicle with registration {plate+} found {!count}.",
            "{suspect.He} gave {suspect.his} address as {suspect.addr1} and showed passport {suspect.passport}.",
            "Witness {witness+.full} can be contacted on {witness+.phone}.",
            "The case was passed to {officer2.rank} of the {|CID|Fraud Unit|Traffic Unit}.",
            "Damage to the property is estimated at {amount+}.",
            "Paramedics treated the victim for {injury} at the scene.",
            "Attended {address+} following a noise complaint; no further action.",
            "Stopped {vehicle+}, registration {plate+}, for speeding; driver {driver+.full} issued a ticket.",
            "The victim, {victim.a_nationality} tourist staying at {hotel}, reported the theft of {victim.his} passport.",
            "Door-to-door enquiries on {street+} were negative.",
            "{suspect.first} told officers {suspect.he} had been at {suspect.his} sister's house in {city+} all evening.",
            "The suspect's social media account {suspect.url} was preserved for evidence.",
            "The Court date will be set by the prosecutor.",
            "{suspect.first} was identified from {suspect.his} national ID / SSN {suspect.ssn}.",
            "Officers attended {address+} at {time+} after a call from {caller.full} ({caller.phone}).",
            "{victim.title} says the suspect is {suspect.a_nationality} man known as {suspect.first}.",
            "The suspect works as {suspect.a_job} at {org+} on {street+}.",
            "A {vehicle+}, registration {plate+}, was recovered in {city+} on {date+}.",
            "Property recovered: {!count} and {!product}.",
            "The victim ({victim.age_words}) was taken to {hospital} with {injury2}.",
            "Statement taken from {witness.title} at {time+}; {witness.he} can be reached on {witness.phone}.",
            "The suspect's bank card {suspect.card} was found at the scene.",
        ],
    },
    "field_log": {
        "split": "train",
        "templates": [
            """FIELD LOG — {org}
Technician: {tech.full} ({emp_id})
Vehicle: {plate}
Date: {date}

{@log}

Total visits: {!qty}. Mileage: {!distance}.""",
            """Site visit report
Site: {address}
Site contact: {contact.full}, {contact.phone}
Visit: {datetime}
Engineer: {tech.initial}
Work order: {order_no}
GPS: {gps}

Findings:
{@bullets}

Parts used: {!count}, {!product}
Customer signature: {contact.initial}""",
            """Home visit notes – {|community nursing|social services|home care}
Client: {client.full}, {client.age}, lives alone at {client.addr1}
Visited by: {tech.full} on {date}

{@body}

Next visit: {date2} {time}.""",
        ],
        "sentences": [
            "Arrived on site at {time+}; {contact.first} let me in through the side gate.",
            "Meter serial {serial+} read {!reading} kWh.",
            "Replaced {!count} and tested the system, running at {!pct} capacity.",
            "Neighbour {neighbour.full} at {address+} reported a smell of gas.",
            "Photos uploaded to {url+}.",
            "Router at {ip+} was unreachable; reset and reconfigured.",
            "{contact.title} asked for a call back on {contact.phone} before {time+}.",
            "Drove to the {city+} depot to collect spare parts.",
            "Client said {client.his} {kin.child} {kin.first} visits on Sundays.",
            "Parked the van on {street+}.",
            "Left a card for the occupant; next attempt scheduled for {date+}.",
            "Took water samples at {gps+}.",
            "{client.first} seemed confused today and did not recognise me at first.",
            "Medication box checked: {!drug} taken, {!drug2} missed this morning.",
            "Spoke to {client.his} GP, {doctor.dr}, about the {diagnosis}.",
            "Lunch break at {time+}.",
            "Firmware updated to {!version} on the controller.",
            "Client mentioned a {vehicle+} parked outside for several days.",
            "{contact.first} said the heating has not worked since {date+}.",
            "Gate code not working, called the office at {time+}.",
            "Pressure test passed at {!reading} bar.",
            "Client's son {kin+.first} asked for a copy of the report at {kin+.email}.",
            "Installed {!product} in the hallway.",
            "Access via the car park of {org+}, {address+}.",
            "Dog on site, owner {contact.title} kept it inside.",
            "Weather: heavy rain, work stopped for {!qty} minutes.",
        ],
    },
    "chat_transcript": {
        "split": "train",
        "templates": [
            """#{|support|team-ops|general|random|project-x} — {date}

{@chat:a,b}""",
            """{date_num}, {time} - Messages and calls are end-to-end encrypted.
{@chat:a,b,c}""",
            """Meeting chat — {|Weekly sync|Monday meeting|Incident review|Planning} — {datetime}
Participants: {a.full}, {b.full}, {c.full}

{@chat:a,b,c}""",
        ],
        "sentences": [],
        "chat": [
            "*: hey, are you around?",
            "*: just landed in {city+}, will call you later",
            "*: my new number is {me.phone}",
            "*: can you send it to {me.email}?",
            "*: meeting moved to {date+} at {time+}",
            "*: ok 👍",
            "*: {you.first} did you see the invoice from {org+}?",
            "*: the VPN is down again, my ip is {ip+}",
            "*: here's the doc: {url+}",
            "*: I'm at {address+}, ring the bell",
            "*: lol",
            "*: sending {amount+} for the tickets, your IBAN is {you.iban} right?",
            "*: happy birthday {you.first}!! 🎉",
            "*: can't make the Monday meeting, doctor's appointment",
            "*: did {other+.first} get the job at {org+}?",
            "*: version {!version} fixed it",
            "*: call me: {me.phone}",
            "*: thanks!",
            "*: {you.first}, your flight {flight+} is delayed",
            "*: grandma is in {hospital+} since {date+}",
            "*: which floor? page {!page} of the guide says 3",
            "*: my card {me.card} got declined again",
            "*: moved in with {other+.full} last week, new address is {me.addr1}",
            "*: {you.first} can you cover my shift on {date+}?",
            "*: sure, no problem",
            "*: the doctor says it's {diagnosis+}, nothing serious",
            "*: see you at {time+}",
            "*: who is {other+.full}?",
            "*: she's the new {other+.job} at {org+}",
            "*: on my way, eta {time+}",
            "*: pls don't share my number ({me.phone}) with {other+.first}",
            "*: my login is {me.username}, password reset link never came",
            "*: the parcel went to {me.street} instead of the office",
            "*: ok",
            "*: lunch at {org+} tomorrow?",
            "*: {you.first} your dad called, he's at {hospital+}",
            "*: the meeting link is {url+}",
            "*: invoice {invoice_no+} is still unpaid btw",
            "*: moving to {country+} in {month+} 😮",
            "*: 3 boxes left in the car, can you grab them?",
        ],
    },
    "bank_letter": {
        "split": "train",
        "templates": [
            """{bank}
{address}

{customer.full}
{customer.addr}

{city}, {date}

Your account {account_no}
{|Notice of overdraft|Change to your interest rate|Suspicious activity on your card|Confirmation of account closure}

Dear {customer.title},

{@body}

Yours faithfully,

{banker.full}
{banker.job}
{bank} · {phone} · {url}""",
            """{bank} — ACCOUNT STATEMENT
Account holder: {customer.formal}
IBAN: {customer.iban}
Statement period: {date} – {date2}
Customer number: {customer_id}
Tax ID: {customer.ssn}

{@table:transactions}

Closing balance: {amount}

{@bullets}""",
            """From: {org_email}
To: {customer.email}
Date: {email_date}
Subject: {|Security alert|Unusual transaction detected|Your card has been blocked}

Dear {customer.full},

We noticed a payment of {amount} at {org} on {datetime} using your card {customer.card}. {@body}

If you did not make this payment, call us immediately on {phone}. We will never ask for your PIN.

{bank} Fraud Team""",
        ],
        "sentences": [
            "Your overdraft limit of {amount+} was exceeded on {date+}.",
            "A direct debit of {amount+} to {org+} could not be paid.",
            "The login from {ip+} on {datetime+} was blocked for your protection.",
            "The interest rate on your savings account will change to {!pct} from {date+}.",
            "Your mortgage adviser, {adviser.full}, can be reached on {adviser.phone}.",
            "We have updated the address we hold for you to {customer.addr1}.",
            "Funds were transferred to {iban+}, held by {other+.full}.",
            "Please bring your passport ({customer.passport}) to the {city+} branch.",
            "Our terms (Section {!section}) allow us to close accounts that have not been used for two years.",
            "Your annual income was declared as {salary+}.",
            "To verify your identity we compared the social security number {customer.ssn} on file with your application.",
            "For your security, we will never ask for your online banking password by e-mail.",
            "A card payment of {amount+} to {org+} on {date+} was flagged by our systems.",
            "Your new debit card will be sent to {customer.street}.",
            "Our records show that {customer.he} is employed as {customer.a_job} at {org2}.",
            "The standing order to {landlord+.full} for {amount+} will continue each month.",
            "You can also manage your accounts in the app ({!version} or later).",
            "Your account {account_no} will be closed on {date+} at your request.",
            "The remaining balance of {amount+} will be transferred to {customer.iban}.",
            "If you need help, visit our branch at {address+} or call {phone}.",
            "We received your request from {customer.email} on {date+}.",
            "Your loan application for {amount+} was approved by {banker.full}.",
            "A fee of {amount+} was charged because the payment to {org+} was returned.",
            "The Bank may change these terms with two months' notice.",
        ],
    },
    "rental_agreement": {
        "split": "train",
        "templates": [
            """RESIDENTIAL TENANCY AGREEMENT

This agreement is made on {date} between {landlord.full} of {landlord.addr1} ("the Landlord") and {tenant.full}, born {tenant.dob} ("the Tenant").

1. Property. The Landlord lets to the Tenant the property at {property}.
2. Term. The tenancy begins on {date2} and continues month to month.
3. Rent. The rent is {rent} per month, payable in advance to {landlord.iban}.
4. Deposit. A deposit of {amount} is held by {agency}.
{@numbered:5}

Signed: ______ {landlord.initial}     ______ {tenant.initial}""",
            """Tenancy application
Tenant(s): {tenant.full}; {tenant2.full}
Current address: {tenant.addr}
Phone: {tenant.phone}    E-mail: {tenant.email}
Employer: {org}, {tenant.job}, salary {salary}
Property: {property}
Monthly rent: {rent}
Move-in date: {date}
Agent: {agent.full}, {agency}

Notes:
{@bullets}""",
            """From: {agent.email}
To: {tenant.email}
Date: {email_date}
Subject: {property}

Dear {tenant.title},

Thank you for viewing the flat on {date}. {@body}

The monthly rent is {rent} and the first payment is due on {date2}.

Best wishes,
{agent.full}
{agency} | {agent.phone}""",
        ],
        "sentences": [
            "The Tenant shall not keep pets without the written consent of the Landlord.",
            "Rent is due on the first day of each month; see clause {!qty}.",
            "The Landlord's agent, {agent.full} of {agency}, will carry out inspections.",
            "Repairs must be reported to {agent.email} or by phone on {agent.phone}.",
            "The Tenant's guarantor is {guarantor.full} of {guarantor.addr1}.",
            "The inventory (page {!page}) lists {!count} in the kitchen.",
            "Utilities are not included; meter readings were taken on {date+}.",
            "The Tenant is {tenant.a_nationality} citizen and provided passport number {tenant.passport}.",
            "The deposit is protected by {org2} under reference {ref+}.",
            "Either party may end the agreement with two months' notice in writing.",
            "Council tax band {|A|B|C|D} applies to the property.",
            "Parking space {!qty} is allocated for the Tenant's {vehicle}.",
            "The previous tenant, {other+.full}, left on {date+}.",
            "Keys will be handed over at {agency} on {date+} at {time+}.",
            "References were received from {referee.full} ({referee.phone}).",
            "Smoking is not permitted anywhere in the building.",
            "The Tenant confirms that no more than {!qty} people will live at the property.",
            "The Landlord's bank account is {landlord.iban}, reference {ref}.",
            "The Landlord may be contacted on {landlord.phone} in an emergency.",
            "The Tenant works as {tenant.a_job} at {org} and earns {salary+} per year.",
            "The gas safety certificate was issued on {date+} by {engineer.full}.",
            "The Tenant must allow access for repairs with 24 hours' notice.",
            "Previous landlord reference: {prevlandlord.full}, {prevlandlord.addr1}.",
        ],
    },
    # ------------------------------------------------------------------ held-out kinds
    "insurance_claim": {
        "split": "heldout",
        "templates": [
            """CLAIM FORM — {insurer}
Policy number: {policy_no}
Claim number: {claim_no}
Policyholder: {holder.full}
Date of birth: {holder.dob}
Address: {holder.addr}
Contact: {holder.phone} / {holder.email}
Date of loss: {date}
Type of loss: {|theft|water damage|collision|fire|storm damage}
Vehicle: {vehicle}, reg. {plate}
Estimated amount: {amount}
Bank details for payment: {holder.iban}

Description of events:
{@body}

Declaration: I confirm the information above is true. {holder.initial}, {date2}""",
            """{insurer}
Claims Department

{date}

Dear {holder.title},

Re: claim {claim_no} under policy {policy_no}

We write regarding the loss you reported on {date2}. {@body}

We have assessed the items listed below:

{@table:claim_items}

Yours sincerely,
{adjuster.full}
Claims Handler, direct line {adjuster.phone}""",
        ],
        "sentences": [
            "The other driver, {other.full}, gave insurer details for {insurer2}.",
            "Our assessor {adjuster.full} will inspect the damage at {holder.addr1} on {date+}.",
            "The police reference for the theft is {incident_no}.",
            "Repairs were quoted by {org+} at {amount+}.",
            "The policyholder was treated at {hospital+} for {injury}.",
            "The excess of {amount+} will be deducted from the settlement.",
            "Photos were submitted through {url+}.",
            "Cover under Section {!section} of the policy wording applies.",
            "A courtesy car was provided until {date+}.",
            "{holder.He} works as {holder.a_job} and uses the vehicle to commute to {city+}.",
            "The settlement of {amount+} will be paid to account {holder.iban}.",
            "Water came through the ceiling from the flat above, occupied by {neighbour.full}.",
            "The claim was reported by phone from {holder.phone} at {time+}.",
            "The policyholder's social security number {holder.ssn} matches our records.",
            "The incident happened on {street+} in {city+} at about {time+}.",
            "The policyholder's partner, {partner.full}, was a passenger.",
            "The vehicle was taken to {org+} for repairs.",
        ],
    },
    "school_report": {
        "split": "heldout",
        "templates": [
            """{school}
{|End of Year Report|Term Report|Progress Report} {school_year}

Student: {student.full}    Student ID: {student_id}
Class: {|7B|Year 9|4th grade|Form 10C}    Tutor: {teacher.title}
Date of birth: {student.dob}

{@table:grades}

Tutor's comment:
{@body}

Parent/guardian: {parent.full}, {parent.phone}
Signed: {head.title}, Head Teacher""",
            """Dear {parent.title},

I am writing about {student.first}'s progress this term at {school}. {@body}

I would be happy to meet you on {date} at {time}; please reply to {teacher.email} or call the school office on {phone}.

Yours sincerely,
{teacher.full}
Class teacher""",
        ],
        "sentences": [
            "{student.first} has made excellent progress in mathematics this term.",
            "{student.He} missed {!qty} lessons because of {condition}.",
            "{student.His} attendance was {!pct}.",
            "A meeting with {parent.title} was held on {date+}.",
            "{student.first} will represent {school} at the regional chess tournament in {city+}.",
            "Please contact {teacher.email} with any questions.",
            "{student.He} receives additional support for {condition}.",
            "{student.first}, who joined us from {country+} last year, is now fluent in English.",
            "The school trip to {city+} costs {amount+}.",
            "{student.first} was absent on {date+} without explanation.",
            "{student.His} homework on Chapter {!qty} was not handed in.",
            "{student.first} sits next to {classmate.first} and they work well together.",
            "{student.first} is a kind and helpful member of the class.",
            "Reading age assessed on {date+}: above expectations.",
            "Please sign and return the consent form for the trip by {date+}.",
        ],
    },
    "travel_booking": {
        "split": "heldout",
        "templates": [
            """Booking confirmation — {airline}
Booking reference: {booking_ref}
Passenger: {traveler.formal}  (passport {traveler.passport}, {traveler.nationality})
Frequent flyer no.: {ff_no}
Contact: {traveler.email}, {traveler.phone}

{@table:itinerary}

Total paid: {amount} by card {traveler.card}
Billing address: {traveler.addr1}

{@bullets}""",
            """Subject: Your stay at {hotel}, {date} – {date2}

Dear {traveler.first},

We are delighted to confirm your reservation (confirmation number {booking_ref}). {@body}

Guest: {traveler.full}
Arrival: {date}
Departure: {date2}
Rate: {amount} per night, guaranteed by card {traveler.card}

{hotel}
{address} · {phone}""",
        ],
        "sentences": [
            "Check-in at {hotel} opens at {time+} on {date+}.",
            "Your room has been upgraded at no extra charge.",
            "Special assistance has been requested for {traveler.title}.",
            "Baggage allowance: {!count}.",
            "Manage your booking at {url+}.",
            "Travelling companion: {companion.full}, born {companion.dob}.",
            "The transfer driver, {driver.first}, will wait at arrivals with a sign.",
            "Free cancellation until {datetime+}.",
            "Your seat request for flight {flight+} could not be confirmed.",
            "A city tax of {amount+} is payable at the hotel.",
            "Your travel insurance is provided by {insurer} (policy {policy_no}).",
            "Online check-in opens {!qty} hours before departure.",
            "Your e-ticket has been sent to {traveler.email}.",
            "Emergency contact: {contact.full}, {contact.phone}.",
        ],
    },
    "pharmacy_prescription": {
        "split": "heldout",
        "templates": [
            """{pharmacy}
{address}
PRESCRIPTION
Rx no.: {rx_no}
Patient: {patient.full}    DOB: {patient.dob}
Address: {patient.addr1}
Prescriber: {doctor.dr}, {clinic}
Date issued: {date}

{@table:meds}

Dispensed by: {pharmacist.initial} on {datetime}

{@bullets}""",
            """{clinic}
{doctor.dr} · {phone}

Rp.
{patient.formal}, born {patient.dob}
Health insurance: {insurer}, member number {member_no}

{@body}

{city}, {date}
Signature: {doctor.initial}""",
        ],
        "sentences": [
            "Take {!dose} of {!drug} with food.",
            "Patient reports an intolerance to {!drug}.",
            "Refills remaining: {!qty}.",
            "Collected by {patient.his} {kin.child} {kin.full}.",
            "Interaction check with {!drug} completed, no issues.",
            "Reimbursed by {insurer}, member number {member_no}.",
            "Call {pharmacy} on {phone} if you notice side effects.",
            "Indication: {diagnosis}.",
            "Do not drive or operate machinery after taking {!drug}.",
            "Repeat prescription requested by phone from {patient.phone} on {date+}.",
            "Store below 25 °C and keep out of the reach of children.",
            "Prescriber contacted at {time+} to confirm the dose.",
            "Delivery to {patient.addr1} arranged for {date+}.",
        ],
    },
    "job_application": {
        "split": "heldout",
        "templates": [
            """CURRICULUM VITAE

{applicant.full}
{applicant.addr}
{applicant.phone} | {applicant.email} | {applicant.url}
Date of birth: {applicant.dob} · Nationality: {applicant.nationality}

EXPERIENCE
{@bullets}

EDUCATION
{year} – {university}, {city}""",
            """{applicant.full}
{applicant.addr1}
{applicant.email}

{date}

Dear {recruiter.title},

I am applying for the position of {applicant.job} at {org}, advertised on {url}. {@body}

Yours sincerely,
{applicant.full}""",
        ],
        "sentences": [
            "Since {year+} I have worked as {applicant.a_job} at {org+} in {city+}.",
            "I increased customer retention by {!pct} in my current role.",
            "References are available from {referee.full} ({referee.email}).",
            "My current salary is {salary+} and my notice period is one month.",
            "I have volunteered at {org2} since {year+}.",
            "I hold a degree from {university} and a certificate in {!software}.",
            "I am {applicant.age_words} and have a clean driving licence.",
            "I can be reached on {applicant.phone} after {time+}.",
            "My former manager, {manager.full}, can confirm my responsibilities.",
            "I relocated from {country+} to {applicant.city} in {year+}.",
            "I speak {|German|Spanish|Italian|Dutch|French} and English fluently.",
            "My portfolio is online at {url+}.",
            "I am available for an interview from {date+}.",
        ],
    },
}
