# Copyright (c) OpenMMLab. All rights reserved.
"""Random, mutated and crossed-over subnets of a search space."""
import random
from typing import Any, Dict, List, Sequence

Choices = Dict[str, Any]


class CandidateSampler:
    """Makes subnets ``{search group: choice}`` from one random generator.

    The generator's state is the whole randomness of an evolution search,
    so saving it (``getstate``) and restoring it replays the search.

    Args:
        choices (dict): ``{search group: [choices]}``.
        seed (int): Seed of the generator.
        mutate_prob (float): Probability that a mutant redraws each group.
        crossover_prob (float): Probability that a child takes each group
            from its second parent.
    """

    def __init__(self, choices: Dict[str, List[Any]], seed: int,
                 mutate_prob: float, crossover_prob: float) -> None:
        for name, value in (('mutate_prob', mutate_prob),
                            ('crossover_prob', crossover_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'EvolutionSearchLoop: `{name}` must be in '
                                 f'[0, 1], but got {value!r}')
        self.choices = choices
        self.mutate_prob = mutate_prob
        self.crossover_prob = crossover_prob
        self.rng = random.Random(seed)

    def random(self) -> Choices:
        """A subnet drawn uniformly."""
        return {k: self.rng.choice(v) for k, v in self.choices.items()}

    def mutate(self, parents: Sequence[Choices]) -> Choices:
        """A random parent with each group redrawn with ``mutate_prob``."""
        parent = self.rng.choice(list(parents))
        return {
            k: (self.rng.choice(self.choices[k])
                if self.rng.random() < self.mutate_prob else v)
            for k, v in parent.items()
        }

    def crossover(self, parents: Sequence[Choices]) -> Choices:
        """A child of two random parents, group by group."""
        first, second = self.rng.sample(list(parents), 2)
        return {
            k: (second[k] if self.rng.random() < self.crossover_prob else v)
            for k, v in first.items()
        }

    def check(self, choices: Choices) -> None:
        """Raise a ValueError unless ``choices`` is a subnet of the space."""
        if set(choices) != set(self.choices):
            raise ValueError(
                'A candidate must give one choice per search group '
                f'{sorted(self.choices)}, but it gives {sorted(choices)}')
        for key, choice in choices.items():
            if choice not in self.choices[key]:
                raise ValueError(f'Candidate choice {choice!r} for {key!r} '
                                 f'is not one of {self.choices[key]}')
