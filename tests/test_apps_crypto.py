"""apps.crypto: adversarial neural cryptography on the core trainer, and `gansuite demo crypto`."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from apps.crypto import AliceBob, CryptoHead, CryptoResult, CryptoRun, Eve, RandomMessages, bits_wrong, train_crypto
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


@pytest.mark.slow
def test_bob_learns_to_decrypt_a_small_cipher_quickly(tmp_path) -> None:
    """With 4-bit messages Bob gets well below chance (2 bits) within 400 Alice/Bob steps."""
    run, _ = train_crypto(bits=4, steps=800, batch_size=128, fresh_eve_steps=0, seed=0, run_dir=tmp_path)
    assert run.bob_bits_wrong < 1.0
    assert run.trained_eve_bits_wrong > run.bob_bits_wrong


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
    data = json.loads(result.output.strip().splitlines()[-1])
    assert {"bob_bits_wrong", "eve_bits_wrong", "seeds", "success_rate"} <= set(data)
    assert data["seeds"] == 1 and 0.0 <= data["bob_bits_wrong"] <= 16


@pytest.mark.slow
def test_a_full_16_bit_run_hides_the_messages_from_eve() -> None:
    """The paper's success criterion on one seed of the default schedule (see benchmarks/crypto.py for 10)."""
    run, _ = train_crypto(seed=0)
    assert run.bob_bits_wrong < 0.05 and run.eve_bits_wrong > 7.0
