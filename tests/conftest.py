"""Tiny randomly initialised model pairs built from configs, for fast CPU tests of the engine."""

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from vault.models import Tags

torch.set_num_threads(1)  # tiny models: threads cost more than they save

VOCAB = 48
TAGS = Tags(src=0, out=1, eos=2, pad=3, close=4, open={5: "PERSON", 6: "ID", 7: "LOCATION"})
FIRST_TEXT_TOKEN = 8


def llama(layers: int, hidden: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    # float64: batched and one-by-one passes then agree to the last bit that matters for an argmax.
    return LlamaForCausalLM(config).double().eval()


def gpt2(layers: int, hidden: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=VOCAB, n_embd=hidden, n_layer=layers, n_head=4, n_positions=512,
                        bos_token_id=0, eos_token_id=2)
    return GPT2LMHeadModel(config).double().eval()


PAIRS = {
    "llama": (llama(1, 32, 1), llama(2, 64, 2)),
    "gpt2": (gpt2(1, 32, 3), gpt2(2, 64, 4)),
}


@pytest.fixture(params=sorted(PAIRS))
def pair(request):
    return PAIRS[request.param]


@pytest.fixture(scope="session")
def tiny_pair_dirs(tmp_path_factory):
    """A draft/oracle pair saved like real ones: random weights, a small trained tokenizer."""
    from tokenizers import pre_tokenizers, trainers

    from vault.models import SPECIAL_TOKENS, new_tokenizer
    from vault.train.generate import generate

    root = tmp_path_factory.mktemp("pair")
    tok = new_tokenizer()
    tok.train_from_iterator([d["text"] for d in generate(40, seed=3)], trainers.BpeTrainer(
        vocab_size=800, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    dirs = {}
    for name, layers, hidden in (("draft", 1, 16), ("oracle", 2, 32)):
        torch.manual_seed(len(name))
        config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=2 * hidden,
                             num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2,
                             max_position_embeddings=2048)
        LlamaForCausalLM(config).save_pretrained(root / name)
        tok.save(str(root / name / "tokenizer.json"))
        dirs[name] = root / name
    return dirs


@pytest.fixture(autouse=True, scope="session")
def _audit_key_home(tmp_path_factory):
    """Every test (and every process a test starts) finds its audit key in a config folder of its own,
    never the user's, and no key in the environment unless the test sets one."""
    import os

    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    for name in ("VAULT_AUDIT_KEY", "VAULT_AUDIT_KEY_FILE", "VAULT_DRAFT", "VAULT_ORACLE", "VAULT_AUDIT_ANCHOR"):
        os.environ.pop(name, None)


class Biased(torch.nn.Module):
    """A model whose logits are shifted by a fixed bias: an oracle made to tag nothing, or to tag
    everything with a type the policy keeps, so the recognizers and the overrides are what the tests
    exercise (the random oracle tags almost every character, which hides a missing override)."""

    def __init__(self, inner: torch.nn.Module, bias: torch.Tensor):
        super().__init__()
        self.inner = inner
        self.register_buffer("bias", bias.to(next(inner.parameters()).dtype))

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        out.logits = out.logits + self.bias
        return out


def biased_pair(dirs, kind: str):
    """The tiny pair with its oracle made "silent" (never opens a span) or "wrong" (opens a QUANTITY
    span wherever it may, a type the test policies keep)."""
    from dataclasses import replace

    from vault.models import load_pair

    draft, oracle = load_pair(dirs["draft"], dirs["oracle"])
    vocab = oracle.model.config.vocab_size
    bias = torch.zeros(vocab)
    for token, etype in oracle.tags.open.items():
        if kind == "silent" or etype != "QUANTITY":
            bias[token] = -1e4
        else:
            bias[token] = 1e4
    return draft, replace(oracle, model=Biased(oracle.model, bias).eval())


@pytest.fixture(scope="session")
def silent_pair(tiny_pair_dirs):
    return biased_pair(tiny_pair_dirs, "silent")


@pytest.fixture(scope="session")
def wrong_pair(tiny_pair_dirs):
    return biased_pair(tiny_pair_dirs, "wrong")
