"""apps.crypto: adversarial neural cryptography on the core trainer, and `gansuite demo crypto`."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from gansuite.apps.crypto import (
    AliceBob,
    CryptoHead,
    CryptoResult,
    CryptoRun,
    Eve,
    RandomMessages,
    attack_with_fresh_eve,
    bits_wrong,
    evaluate,
    train_crypto,
)
from gansuite.apps.crypto_networks import _ConvStack
from gansuite.cli import main
from gansuite.core import Sample, Trainer, TrainerConfig


def test_bits_wrong_counts_flipped_and_undecided_bits() -> None:
    plaintext = torch.tensor([[1.0, -1.0, 1.0, 1.0]])
    assert bits_wrong(plaintext, plaintext).item() == 0.0
    assert bits_wrong(-plaintext, plaintext).item() == 4.0
    assert bits_wrong(torch.zeros_like(plaintext), plaintext).item() == 2.0  # chance: N/2
    assert bits_wrong(torch.tensor([[1.0, 1.0, 1.0, 1.0]]), plaintext).item() == 1.0


def test_networks_shapes_ranges_and_eve_never_sees_the_key() -> None:
    alice_bob, eve = AliceBob(bits=8), Eve(bits=8)
    plaintext, key = alice_bob.example_inputs(5)
    out = alice_bob(plaintext, key)
    assert out.shape == (5, 2, 8) and out.abs().max() <= 1
    assert torch.equal(out[:, 0], alice_bob.encrypt(plaintext, key))
    assert eve(out[:, 0]).shape == (5, 8)
    other_key = -key
    assert not torch.allclose(alice_bob.encrypt(plaintext, other_key), out[:, 0])  # the key matters to Alice


def test_conv_stack_is_the_papers_convolutions() -> None:
    """`_ConvStack` (per-position linear maps, for speed) = the paper's Conv1d stack, same init and same output."""
    torch.manual_seed(0)
    reference = nn.Sequential(
        nn.ConstantPad1d((1, 2), 0.0), nn.Conv1d(1, 2, 4), nn.LeakyReLU(0.2), nn.Conv1d(2, 4, 2, stride=2),
        nn.LeakyReLU(0.2), nn.Conv1d(4, 4, 1), nn.LeakyReLU(0.2), nn.Conv1d(4, 1, 1), nn.Tanh(),
    )
    torch.manual_seed(0)
    stack = _ConvStack(lambda: nn.LeakyReLU(0.2))
    x = torch.randn(5, 32)
    expected = reference(x.unsqueeze(1)).squeeze(1)
    assert stack(x).shape == (5, 16)
    torch.testing.assert_close(stack(x), expected, atol=1e-6, rtol=1e-5)
    assert not torch.allclose(stack(x.flip(1)), expected, atol=1e-3)  # the order of the inputs matters


class _ConstantEve(nn.Module):
    """An Eve that always answers +1 on every bit, with one trainable offset."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.zeros(()))

    def forward(self, ciphertext: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return torch.ones_like(ciphertext) + 0 * self.offset


def test_head_objectives_follow_the_paper() -> None:
    head = CryptoHead(bits=4)
    plaintext = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    fake = torch.stack([torch.zeros(1, 4), plaintext], dim=1)  # Bob exact; constant Eve gets 2 of 4 bits wrong
    sample = Sample(inputs=(plaintext, plaintext), target=plaintext)
    assert head.discriminator_loss(_ConstantEve(), sample, fake).item() == 2.0
    bob, adversarial = head.generator_loss(_ConstantEve(), sample, fake)
    assert bob.item() == 0.0 and adversarial.item() == 0.0  # Eve at chance: (N/2 − L_E)² = 0
    fake_bad = torch.stack([torch.zeros(1, 4), -plaintext], dim=1)
    bob, _ = head.generator_loss(_ConstantEve(), sample, fake_bad)
    assert bob.item() == 4.0


def test_trainer_uses_the_heads_own_objectives(tmp_path) -> None:
    """The core hook: D's loss is the head's `discriminator_loss`, G's content its `generator_loss`."""
    config = TrainerConfig(steps=2, batch_size=16, device="cpu", progress=False, tensorboard=False, ema_decay=0.0,
                           checkpoint_every=0, log_every=0, channels_last=False)
    trainer = Trainer(generator=AliceBob(bits=4), discriminator=Eve(bits=4), head=CryptoHead(4), config=config,
                      run_dir=tmp_path)
    messages = RandomMessages(bits=4, size=64)
    plaintext, key = messages.plaintexts[:16], messages.keys[:16]
    sample = Sample(inputs=(plaintext, key), target=plaintext)
    with torch.no_grad():
        out = trainer.generator(plaintext, key)
        expected_eve = bits_wrong(trainer.discriminator(out[:, 0]), plaintext).mean().item()
        expected_bob = bits_wrong(out[:, 1], plaintext).mean().item()
    eve_before = [p.clone() for p in trainer.discriminator.parameters()]
    result = trainer.train_step(sample)
    assert result.discriminator_loss == pytest.approx(expected_eve, rel=1e-5)
    assert result.content_loss == pytest.approx(expected_bob, rel=1e-5)
    assert not all(torch.equal(a, b) for a, b in zip(eve_before, trainer.discriminator.parameters(), strict=True))


class _FixedCipher(nn.Module):
    """A hand-made Alice/Bob: C = P[perm] * sign, optionally times the key (a one-time pad); Bob inverts it."""

    def __init__(self, bits: int, use_key: bool) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(1)
        self.perm = torch.randperm(bits, generator=generator)
        self.sign = torch.randint(0, 2, (bits,), generator=generator).float() * 2 - 1
        self.use_key = use_key
        self.unused = nn.Parameter(torch.zeros(()))  # the trainer builds an optimizer for the "generator"

    def forward(self, plaintext: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        pad = key if self.use_key else torch.ones_like(key)
        ciphertext = plaintext[:, self.perm] * self.sign * pad
        decrypted = torch.empty_like(plaintext)
        decrypted[:, self.perm] = ciphertext * self.sign * pad
        return torch.stack([ciphertext, decrypted + 0 * self.unused], dim=1)


def test_fresh_eve_reads_an_alice_that_ignores_the_key(tmp_path) -> None:
    """The security test must catch a cipher without a key: a fresh Eve learns to read it."""
    keyless = _FixedCipher(bits=8, use_key=False)
    eve = attack_with_fresh_eve(keyless, bits=8, steps=200, batch_size=128, seed=3, run_dir=tmp_path)
    bob, eve_error = evaluate(keyless, eve, bits=8, seed=5)
    assert bob == 0.0
    assert eve_error < 1.0  # chance is 4 of 8 bits


def test_fresh_eve_stays_at_chance_against_a_one_time_pad(tmp_path) -> None:
    """...and must not read a cipher that is secure (P XOR K): the fresh Eve stays near chance."""
    pad = _FixedCipher(bits=8, use_key=True)
    eve = attack_with_fresh_eve(pad, bits=8, steps=200, batch_size=128, seed=3, run_dir=tmp_path)
    bob, eve_error = evaluate(pad, eve, bits=8, seed=5)
    assert bob == 0.0
    assert eve_error > 3.6


def test_default_eve_cannot_die() -> None:
    """Eve's default activation (leaky ReLU) keeps a gradient for any input, however far off (a dead ReLU Eve
    stuck at chance let Alice skip encrypting in 4 of 10 seeds)."""
    eve = Eve(bits=8)
    ciphertext = torch.full((4, 8), -50.0)  # far off: a ReLU Eve's first layer can be all-negative here
    for layer in eve.net.mix:
        if isinstance(layer, nn.Linear):
            nn.init.constant_(layer.weight, 1.0)
            nn.init.constant_(layer.bias, 0.0)
    eve(ciphertext).sum().backward()
    first = eve.net.mix[0]
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0
    relu_eve = Eve(bits=8, activation="relu")
    for layer in relu_eve.net.mix:
        if isinstance(layer, nn.Linear):
            nn.init.constant_(layer.weight, 1.0)
            nn.init.constant_(layer.bias, 0.0)
    relu_eve(ciphertext).sum().backward()
    assert relu_eve.net.mix[0].weight.grad.abs().sum() == 0  # the failure the default avoids


@pytest.mark.slow
def test_without_the_secrecy_term_alice_does_not_encrypt(tmp_path) -> None:
    """With Eve's term weighted 0, Bob learns to read 4-bit messages, and so does a fresh Eve (no cipher).

    (With the term on, the 4-bit game often ends with Alice sending nothing, Bob and Eve at chance;
    the 16-bit run below is the real check.)
    """
    run, _ = train_crypto(bits=4, steps=800, batch_size=128, adversarial_weight=0.0, fresh_eve_steps=300, seed=0,
                          run_dir=tmp_path)
    assert run.bob_bits_wrong < 1.0  # chance: 2 of 4
    assert run.fresh_eve_bits_wrong < 1.0


def test_result_picks_a_successful_seed_and_reports_the_rate() -> None:
    runs = [CryptoRun(0, 0.01, 7.6, 7.6, 7.8, 1.0), CryptoRun(1, 0.30, 7.9, 7.9, 8.0, 1.0),
            CryptoRun(2, 0.02, 7.2, 7.2, 7.4, 1.0), CryptoRun(3, 0.01, 3.0, 3.0, 3.0, 1.0)]
    result = CryptoResult(bits=16, runs=runs)
    assert result.success_rate == 0.5
    assert result.best.seed == 0
    data = result.as_dict()
    assert data["seeds"] == 4 and data["bob_bits_wrong"] == 0.01 and data["eve_bits_wrong"] == 7.6


def test_cli_demo_crypto_json_has_the_documented_keys() -> None:
    result = CliRunner().invoke(main, ["demo", "crypto", "--seeds", "1", "--steps", "100", "--fresh-eve-steps", "0",
                                       "--json"])
    assert result.exit_code == 0, result.output
    def strict(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON (jq and browsers refuse it)")

    data = json.loads(result.output.strip().splitlines()[-1], parse_constant=strict)
    assert {"bob_bits_wrong", "eve_bits_wrong", "seeds", "success_rate"} <= set(data)
    assert data["seeds"] == 1 and 0.0 <= data["bob_bits_wrong"] <= 16
    assert data["runs"][0]["fresh_eve_bits_wrong"] is None  # no fresh Eve with --fresh-eve-steps 0 (was NaN)


@pytest.mark.slow
def test_a_full_16_bit_run_hides_the_messages_from_eve() -> None:
    """The paper's success criterion on one seed of the default schedule (see benchmarks/crypto.py for 10)."""
    run, _ = train_crypto(seed=0)
    assert run.bob_bits_wrong < 0.05 and run.eve_bits_wrong > 7.0
