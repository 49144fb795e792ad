"""A resumable, seeded, distributed sampler.

Each epoch draws a permutation from (seed, epoch); rank r of w takes every w-th index. Every
yielded item is a `SeededIndex`: the dataset index plus a per-sample seed derived from
(seed, epoch, position), which datasets use for their random crops and flips. So what a step
sees depends only on (seed, step), never on worker processes or on where a run was resumed,
and `resume` continues exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from gansuite.errors import ConfigError

__all__ = [
    "SeededConcat",
    "SeededIndex",
    "SeededSampler",
    "accepts_seeded_keys",
    "sample_index",
    "sample_rng",
    "seeded_loader",
]


class SeededIndex(NamedTuple):
    """A dataset index and the seed of that sample's random augmentations."""

    index: int
    seed: int


def sample_index(key: SeededIndex | int) -> int:
    """The dataset index of a `__getitem__` key (a `SeededIndex` or a plain int)."""
    return key.index if isinstance(key, SeededIndex) else int(key)


def accepts_seeded_keys(dataset: object) -> bool:
    """Whether `dataset[key]` takes a `SeededIndex` (it sets ``seeded_keys = True``).

    gansuite's datasets do; any other map-style dataset (``TensorDataset``, ``Subset``, a
    torchvision dataset) is given plain int indices by the trainer.
    """
    return getattr(dataset, "seeded_keys", False) is True


def sample_rng(key: SeededIndex | int) -> tuple[int, np.random.Generator]:
    """(index, generator) for a dataset's `__getitem__` key; a plain int gets seed = index."""
    if isinstance(key, SeededIndex):
        return key.index, np.random.default_rng(key.seed)
    return int(key), np.random.default_rng(int(key))


class SeededSampler(Sampler[SeededIndex | int]):
    """Infinite stream of `SeededIndex`, sharded over ranks, starting at any global position.

    Args:
        dataset_size: number of items in the dataset.
        batch_size: items per rank per step.
        seed: base seed.
        rank: this process's rank; world_size: number of processes.
        start_step: the first step to produce, so a resumed run skips what was consumed.
        seeded: yield `SeededIndex` keys (True) or the same indices as plain ints (False), for
            datasets that index with ints only (see `accepts_seeded_keys`).
    """

    def __init__(
        self,
        *,
        dataset_size: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        start_step: int = 0,
        seeded: bool = True,
    ) -> None:
        if dataset_size <= 0:
            raise ConfigError("the dataset is empty: check the data folders")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is outside world size {world_size}")
        self.dataset_size, self.batch_size, self.seed = dataset_size, batch_size, seed
        self.rank, self.world_size, self.start_step = rank, world_size, start_step
        self.seeded = seeded

    def _permutation(self, epoch: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.dataset_size, generator=generator).numpy()

    def __iter__(self) -> Iterator[SeededIndex | int]:
        per_step = self.batch_size * self.world_size  # items consumed by all ranks in one step
        position = self.start_step * per_step + self.rank  # global position of this rank's next item
        while True:
            epoch, offset = divmod(position, self.dataset_size)
            permutation = self._permutation(epoch)
            while offset < self.dataset_size:
                seed = (self.seed * 2_654_435_761 + position * 40_503) % (2**63)
                yield SeededIndex(int(permutation[offset]), seed) if self.seeded else int(permutation[offset])
                position += self.world_size
                offset += self.world_size


def seeded_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    seed: int,
    num_workers: int = 0,
    rank: int = 0,
    world_size: int = 1,
    start_step: int = 0,
    pin_memory: bool = False,
    collate_fn: Callable[[Any], Any] | None = None,
) -> DataLoader:
    """An endless `DataLoader` over `dataset` drawn by a `SeededSampler` from step `start_step`.

    Datasets that accept `SeededIndex` keys get them (`accepts_seeded_keys`), others plain ints.
    The loader has its own generator, so creating its iterator does not consume the global RNG.
    """
    sampler = SeededSampler(
        dataset_size=len(dataset),  # type: ignore[arg-type]
        batch_size=batch_size,
        seed=seed,
        rank=rank,
        world_size=world_size,
        start_step=start_step,
        seeded=accepts_seeded_keys(dataset),
    )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        collate_fn=collate_fn,
        generator=torch.Generator().manual_seed(seed),
    )


class SeededConcat(Dataset):
    """Datasets one after another, passing each key's seed on to the dataset that holds it.

    (`torch.utils.data.ConcatDataset` takes plain ints only.) Under `SeededSampler`, each part
    is drawn in proportion to its length.

    Args:
        parts: the datasets; empty ones are allowed, but not all of them.

    Raises:
        ConfigError: no part has an item.
    """

    seeded_keys = True

    def __init__(self, parts: list[Dataset]) -> None:
        self.parts = list(parts)
        self.ends = np.cumsum([len(part) for part in self.parts])  # type: ignore[arg-type]
        if not self.parts or self.ends[-1] == 0:
            raise ConfigError("the dataset is empty: check the data folders")

    def __len__(self) -> int:
        return int(self.ends[-1])

    def __getitem__(self, key: SeededIndex | int) -> object:
        index = sample_index(key)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is outside a dataset of {len(self)} items")
        part = int(np.searchsorted(self.ends, index, side="right"))
        local = index - (int(self.ends[part - 1]) if part else 0)
        return self.parts[part][SeededIndex(local, key.seed) if isinstance(key, SeededIndex) else local]
