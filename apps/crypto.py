"""Adversarial neural cryptography (Abadi & Andersen, "Learning to Protect Communications with
Adversarial Neural Cryptography", 2016), trained with gansuite's `Trainer`.

Alice encrypts a plaintext P with a shared key K into a ciphertext C; Bob decrypts C with K; Eve
decrypts C without K. Eve is the adversary (gansuite's "discriminator"): she minimises her
reconstruction error L_E. Alice and Bob (one "generator" module) minimise
L_AB = L_B + (N/2 − L_E)² / (N/2)²: Bob must be right and Eve no better than chance.

Bits are ±1. An error "in bits" is Σ|P − P'| / 2 over the N bits of a message: a wrong bit counts
1, an undecided output (0) counts 1/2, so guessing scores N/2 (8 of 16). Networks follow the
paper's "mix and transform" design: a fully connected layer, then 1-D convolutions (kernel 4/2/1/1,
depth 2/4/4/1, stride 1/2/1/1) and tanh at the end; Eve has one more fully connected layer. Eve
trains on two minibatches per Alice/Bob minibatch, as in the paper. One departure: ReLU instead
of the paper's sigmoid between layers, with learning rate 2e-3 and batch 256 (the paper: 8e-4,
4096): in a probe here (batch 256, seed 0), sigmoid networks at 8e-4 still had Bob at chance
after 750 Alice/Bob steps, ReLU ones at 2e-3 had him below 0.1 bits after 500.

Evaluation follows the paper: after training, Alice is frozen and a fresh Eve is trained against
her from scratch; the reported Eve error is the lower (stronger Eve) of the trained and fresh Eves.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from gansuite.core import DISCRIMINATORS, GENERATORS, NetworkSpec, Sample, Trainer, TrainerConfig, build_network
from gansuite.core.sampling import SeededIndex, sample_index
from gansuite.errors import ConfigError

__all__ = [
    "AliceBob",
    "CryptoHead",
    "CryptoResult",
    "CryptoRun",
    "Eve",
    "RandomMessages",
    "bits_wrong",
    "run_crypto_demo",
    "train_crypto",
]

SUCCESS_BOB_BITS = 0.05
SUCCESS_EVE_BITS = 7.0
_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class _MixAndTransform(nn.Module):
    """Fully connected mixing layer(s), then the paper's 1-D convolution stack: (N, in) → (N, bits) in [-1, 1]."""

    def __init__(self, in_features: int, bits: int, fully_connected: int, activation: str) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ConfigError(f"activation {activation!r} is not one of {sorted(_ACTIVATIONS)}")
        act = _ACTIVATIONS[activation]
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(fully_connected):
            layers += [nn.Linear(width, 2 * bits), act()]
            width = 2 * bits
        self.mix = nn.Sequential(*layers)
        self.transform = nn.Sequential(
            nn.ConstantPad1d((1, 2), 0.0), nn.Conv1d(1, 2, 4), act(),  # TensorFlow's "same" padding
            nn.Conv1d(2, 4, 2, stride=2), act(),
            nn.Conv1d(4, 4, 1), act(),
            nn.Conv1d(4, 1, 1), nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transform(self.mix(x).unsqueeze(1)).squeeze(1)  # (N, 2·bits) → (N, 1, 2·bits) → (N, bits)


@GENERATORS.register("crypto-alice-bob")
class AliceBob(nn.Module):
    """Alice (encrypts) and Bob (decrypts), trained together as the "generator".

    Args:
        bits: message and key length N.
        activation: "relu" (default), "sigmoid" (the paper's) or "tanh" between layers.

    Forward:
        plaintext, key: (B, N) float32 in {-1, 1}.
        Returns (B, 2, N) float32 in [-1, 1]: [:, 0] the ciphertext, [:, 1] Bob's decryption.
    """

    def __init__(self, *, bits: int = 16, activation: str = "relu") -> None:
        super().__init__()
        if bits < 2 or bits % 2:
            raise ConfigError(f"bits must be an even number >= 2, got {bits}")
        self.bits = bits
        self.alice = _MixAndTransform(2 * bits, bits, fully_connected=1, activation=activation)
        self.bob = _MixAndTransform(2 * bits, bits, fully_connected=1, activation=activation)

    def encrypt(self, plaintext: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """(B, N), (B, N) in {-1, 1} → ciphertext (B, N) in [-1, 1]."""
        return self.alice(torch.cat([plaintext, key], dim=1))

    def decrypt(self, ciphertext: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """(B, N) ciphertext, (B, N) key → Bob's plaintext estimate (B, N) in [-1, 1]."""
        return self.bob(torch.cat([ciphertext, key], dim=1))

    def forward(self, plaintext: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        ciphertext = self.encrypt(plaintext, key)
        return torch.stack([ciphertext, self.decrypt(ciphertext, key)], dim=1)

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        return _random_bits(batch_size, self.bits), _random_bits(batch_size, self.bits)


@DISCRIMINATORS.register("crypto-eve")
class Eve(nn.Module):
    """The eavesdropper: decrypts without the key (two fully connected layers, then the conv stack).

    Forward:
        ciphertext: (B, N) float32 in [-1, 1]; condition: unused (None).
        Returns her plaintext estimate (B, N) in [-1, 1].
    """

    def __init__(self, *, bits: int = 16, activation: str = "relu") -> None:
        super().__init__()
        self.bits = bits
        self.net = _MixAndTransform(bits, bits, fully_connected=2, activation=activation)

    def forward(self, ciphertext: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(ciphertext)

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, self.bits) * 2 - 1,)


def _random_bits(count: int, bits: int, generator: torch.Generator | None = None) -> torch.Tensor:
    return torch.randint(0, 2, (count, bits), generator=generator).float() * 2 - 1


def bits_wrong(estimate: torch.Tensor, plaintext: torch.Tensor) -> torch.Tensor:
    """Reconstruction error per message in bits, Σ|P − P'| / 2: (B, N), (B, N) → (B,); chance is N/2."""
    return (estimate - plaintext).abs().sum(dim=1) / 2


class RandomMessages(Dataset):
    """`size` random (plaintext, key) pairs of `bits` ±1 bits, fixed by `seed`; batches are fetched whole."""

    def __init__(self, *, bits: int = 16, size: int = 1 << 16, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.plaintexts = _random_bits(size, bits, generator)
        self.keys = _random_bits(size, bits, generator)

    seeded_keys = True  # batches are fetched whole; the keys only carry indices

    def __len__(self) -> int:
        return len(self.plaintexts)

    def __getitem__(self, key: SeededIndex | int) -> tuple[torch.Tensor, torch.Tensor]:
        index = sample_index(key)
        return self.plaintexts[index], self.keys[index]

    def __getitems__(self, keys: list[SeededIndex | int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N) plaintexts and (B, N) keys."""
        indices = torch.from_numpy(np.fromiter((sample_index(k) for k in keys), dtype=np.int64, count=len(keys)))
        return self.plaintexts[indices], self.keys[indices]


class CryptoHead:
    """Trainer head: inputs (P, K), target P; Eve's and Alice/Bob's objectives replace a real/fake loss."""

    def __init__(self, bits: int) -> None:
        self.bits = bits

    def prepare(self, batch: tuple[torch.Tensor, torch.Tensor]) -> Sample:
        plaintext, key = batch
        return Sample(inputs=(plaintext, key), target=plaintext)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(*sample.inputs)

    def discriminator_loss(self, eve: nn.Module, sample: Sample, fake: torch.Tensor) -> torch.Tensor:
        """L_E: Eve's mean error in bits on the (detached) ciphertexts."""
        return bits_wrong(eve(fake[:, 0]), sample.target).mean()

    def generator_loss(self, eve: nn.Module, sample: Sample, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(L_B, (N/2 − L_E)² / (N/2)²): Bob's error in bits, and how far Eve is from chance."""
        half = self.bits / 2
        bob = bits_wrong(fake[:, 1], sample.target).mean()
        eve_error = bits_wrong(eve(fake[:, 0]), sample.target).mean()
        return bob, (half - eve_error) ** 2 / half**2


def _already_batched(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch


@dataclass(frozen=True)
class CryptoRun:
    """One seed's outcome: errors in bits on fresh messages (chance = bits / 2)."""

    seed: int
    bob_bits_wrong: float
    eve_bits_wrong: float
    trained_eve_bits_wrong: float
    fresh_eve_bits_wrong: float
    seconds: float

    @property
    def success(self) -> bool:
        return self.bob_bits_wrong < SUCCESS_BOB_BITS and self.eve_bits_wrong > SUCCESS_EVE_BITS


@dataclass(frozen=True)
class CryptoResult:
    """All seeds; `best` is the successful run with the highest Eve error, else the lowest Bob error."""

    bits: int
    runs: list[CryptoRun] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        return sum(r.success for r in self.runs) / len(self.runs)

    @property
    def best(self) -> CryptoRun:
        good = [r for r in self.runs if r.success]
        if good:
            return max(good, key=lambda r: r.eve_bits_wrong)
        return min(self.runs, key=lambda r: (r.bob_bits_wrong, -r.eve_bits_wrong))

    def as_dict(self) -> dict[str, object]:
        best = self.best
        return {
            "bob_bits_wrong": round(best.bob_bits_wrong, 4),
            "eve_bits_wrong": round(best.eve_bits_wrong, 4),
            "seeds": len(self.runs),
            "success_rate": self.success_rate,
            "best_seed": best.seed,
            "bits": self.bits,
            "runs": [{k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(r).items()} for r in self.runs],
        }


def _config(
    steps: int, batch_size: int, seed: int, learning_rate: float, updates: int = 2, log_every: int = 0
) -> TrainerConfig:
    return TrainerConfig(
        steps=steps,
        batch_size=batch_size,
        generator_lr=learning_rate,
        discriminator_lr=learning_rate,
        betas=(0.9, 0.999),
        discriminator_updates_per_generator_update=updates,
        ema_decay=0.0,  # Alice and Bob must agree exactly: an averaged Alice would not match Bob
        device="cpu",
        seed=seed,
        progress=False,
        tensorboard=False,
        checkpoint_every=0,
        keep_checkpoints=1,
        log_every=log_every,
        channels_last=False,
    )


@torch.no_grad()
def _errors(alice_bob: AliceBob, eve: nn.Module, plaintext: torch.Tensor, key: torch.Tensor) -> tuple[float, float]:
    out = alice_bob(plaintext, key)
    return float(bits_wrong(out[:, 1], plaintext).mean()), float(bits_wrong(eve(out[:, 0]), plaintext).mean())


def train_crypto(
    *, bits: int = 16, steps: int = 6000, batch_size: int = 256, learning_rate: float = 2e-3,
    fresh_eve_steps: int = 1000, seed: int = 0, run_dir: str | Path | None = None, log_every: int = 0,
) -> tuple[CryptoRun, AliceBob]:
    """Train Alice/Bob against Eve with gansuite's `Trainer`, then attack Alice with a fresh Eve.

    Args:
        bits: message and key length N.
        steps: trainer steps; Eve updates every step, Alice/Bob every second one.
        batch_size: messages per step.
        learning_rate: Adam learning rate of both sides (the paper's 0.0008).
        fresh_eve_steps: steps of the fresh Eve trained against the frozen Alice (0 skips it).
        seed: seed of data, initialisation and training.
        run_dir: where the runs' config, log and final checkpoint go (a temporary folder by default).
        log_every: log the losses (Bob's and Eve's errors in bits) every this many steps (0: never).

    Returns:
        The seed's `CryptoRun` (errors on 8192 fresh messages) and the trained Alice/Bob.
    """
    started = time.perf_counter()
    torch.manual_seed(seed)
    dataset = RandomMessages(bits=bits, seed=seed)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(run_dir) if run_dir is not None else Path(scratch)
        trainer = Trainer(
            generator=build_network(NetworkSpec("generator", "crypto-alice-bob", {"bits": bits})),
            discriminator=build_network(NetworkSpec("discriminator", "crypto-eve", {"bits": bits})),
            head=CryptoHead(bits),
            config=_config(steps, batch_size, seed, learning_rate, log_every=log_every),
            run_dir=root / f"seed_{seed}",
        )
        trainer.fit(dataset, collate_fn=_already_batched)
        alice_bob: AliceBob = trainer.eval_generator().eval()
        trained_eve = trainer.discriminator.eval()

        fresh_eve_error = float("inf")
        if fresh_eve_steps:
            # the paper's test: freeze Alice (and Bob), train a new Eve from scratch against her
            frozen = alice_bob.requires_grad_(False)
            attack = Trainer(
                generator=frozen,
                discriminator=build_network(NetworkSpec("discriminator", "crypto-eve", {"bits": bits})),
                head=CryptoHead(bits),
                config=_config(fresh_eve_steps, batch_size, seed + 10_000, learning_rate, updates=fresh_eve_steps + 1),
                run_dir=root / f"seed_{seed}_fresh_eve",
            )
            attack.fit(RandomMessages(bits=bits, seed=seed + 10_000), collate_fn=_already_batched)
            fresh_eve = attack.discriminator.eval()

    generator = torch.Generator().manual_seed(seed + 20_000)
    plaintext, key = _random_bits(8192, bits, generator), _random_bits(8192, bits, generator)
    bob_error, trained_eve_error = _errors(alice_bob, trained_eve, plaintext, key)
    if fresh_eve_steps:
        fresh_eve_error = _errors(alice_bob, fresh_eve, plaintext, key)[1]
    run = CryptoRun(
        seed=seed,
        bob_bits_wrong=bob_error,
        eve_bits_wrong=min(trained_eve_error, fresh_eve_error),
        trained_eve_bits_wrong=trained_eve_error,
        fresh_eve_bits_wrong=fresh_eve_error if fresh_eve_steps else float("nan"),
        seconds=time.perf_counter() - started,
    )
    return run, alice_bob


def run_crypto_demo(
    *, seeds: int = 10, first_seed: int = 0, bits: int = 16, steps: int = 6000, batch_size: int = 256,
    fresh_eve_steps: int = 1000, run_dir: str | Path | None = None,
) -> CryptoResult:
    """Train `seeds` independent Alice/Bob/Eve runs and collect their errors (see `train_crypto`)."""
    if seeds < 1:
        raise ConfigError(f"seeds must be >= 1, got {seeds}")
    runs = [
        train_crypto(bits=bits, steps=steps, batch_size=batch_size, fresh_eve_steps=fresh_eve_steps,
                     seed=first_seed + i, run_dir=run_dir)[0]
        for i in range(seeds)
    ]
    return CryptoResult(bits=bits, runs=runs)
