"""The networks of adversarial neural cryptography (Abadi & Andersen 2016): Alice/Bob and Eve.

Split from `gansuite.apps.crypto` (training and evaluation live there). Both follow the paper's
"mix and transform" design: fully connected mixing, then a 1-D convolution stack, tanh at the end.
Bits are ±1 floats.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gansuite.core import DISCRIMINATORS, GENERATORS
from gansuite.errors import ConfigError

__all__ = ["DEFAULT_ACTIVATION", "AliceBob", "Eve", "random_bits"]

DEFAULT_ACTIVATION = "leaky_relu"
_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "leaky_relu": lambda: nn.LeakyReLU(0.2), "relu": nn.ReLU, "elu": nn.ELU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
}


class _ConvStack(nn.Module):
    """The paper's 1-D convolution stack on one channel: (B, 2·N) → (B, N) in [-1, 1].

    Conv1d(1→2, kernel 4, TensorFlow "same" padding), Conv1d(2→4, kernel 2, stride 2), Conv1d(4→4, 1),
    Conv1d(4→1, 1), tanh. Each convolution is written as a `nn.Linear` applied at every position (to
    the kernel's window, flattened channel-major like Conv1d's weight): the same function, the same
    initialisation as `nn.Conv1d` with these shapes, and 1.7× faster on a CPU than Conv1d on
    these tiny tensors (the training step is dominated by them).
    """

    def __init__(self, act: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.conv1, self.act1 = nn.Linear(4, 2), act()  # Conv1d(1, 2, 4), padding (1, 2)
        self.conv2, self.act2 = nn.Linear(2 * 2, 4), act()  # Conv1d(2, 4, 2, stride=2)
        self.conv3, self.act3 = nn.Linear(4, 4), act()  # Conv1d(4, 4, 1)
        self.conv4 = nn.Linear(4, 1)  # Conv1d(4, 1, 1), then tanh

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape
        h = self.act1(self.conv1(nn.functional.pad(x, (1, 2)).unfold(1, 4, 1)))  # (B, 2N, 2): position, channel
        h = h.reshape(batch, length // 2, 2, 2).transpose(2, 3).reshape(batch, length // 2, 4)  # channel-major taps
        h = self.act3(self.conv3(self.act2(self.conv2(h))))  # (B, N, 4)
        return torch.tanh(self.conv4(h)).squeeze(2)


class _MixAndTransform(nn.Module):
    """Fully connected mixing layer(s), then the paper's 1-D convolution stack: (B, in) → (B, bits) in [-1, 1]."""

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
        self.transform = _ConvStack(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transform(self.mix(x))  # (B, 2·bits) → (B, bits)


@GENERATORS.register("crypto-alice-bob")
class AliceBob(nn.Module):
    """Alice (encrypts) and Bob (decrypts), trained together as the "generator".

    Args:
        bits: message and key length N.
        activation: between layers: "leaky_relu" (default; slope 0.2), "relu", "elu", "sigmoid" (the
            paper's) or "tanh".

    Forward:
        plaintext, key: (B, N) float32 in {-1, 1}.
        Returns (B, 2, N) float32 in [-1, 1]: [:, 0] the ciphertext, [:, 1] Bob's decryption.
    """

    def __init__(self, *, bits: int = 16, activation: str = DEFAULT_ACTIVATION) -> None:
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
        return random_bits(batch_size, self.bits), random_bits(batch_size, self.bits)


@DISCRIMINATORS.register("crypto-eve")
class Eve(nn.Module):
    """The eavesdropper: decrypts without the key (two fully connected layers, then the conv stack).

    Forward:
        ciphertext: (B, N) float32 in [-1, 1]; condition: unused (None).
        Returns her plaintext estimate (B, N) in [-1, 1].
    """

    def __init__(self, *, bits: int = 16, activation: str = DEFAULT_ACTIVATION) -> None:
        super().__init__()
        self.bits = bits
        self.net = _MixAndTransform(bits, bits, fully_connected=2, activation=activation)

    def forward(self, ciphertext: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(ciphertext)

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, self.bits) * 2 - 1,)


def random_bits(count: int, bits: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """`(count, bits)` float32 of uniformly random ±1 bits (plaintexts or keys)."""
    return torch.randint(0, 2, (count, bits), generator=generator).float() * 2 - 1
