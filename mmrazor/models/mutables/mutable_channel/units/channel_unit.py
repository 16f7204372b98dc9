# Copyright (c) OpenMMLab. All rights reserved.
"""Channel units: the channels of several layers that change together."""
from abc import abstractmethod
from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn

from mmrazor.utils import DumpChosen

from ...base_mutable import BaseMutable


class Channel:
    """A range of one layer's input or output channels.

    Args:
        name (str): The layer's name in ``model.named_modules()``.
        start (int): First channel of the range.
        end (int): One past the last channel.
        expand_ratio (int): Layer channels per unit channel (a linear layer
            after flattening ``C x H x W`` has ``H * W``). Defaults to 1.
        is_output_channel (bool): Output (True) or input side. Defaults to
            True.
    """

    def __init__(self,
                 name: str,
                 start: int,
                 end: int,
                 expand_ratio: int = 1,
                 is_output_channel: bool = True) -> None:
        self.name = name
        self.start = start
        self.end = end
        self.expand_ratio = expand_ratio
        self.is_output_channel = is_output_channel

    @property
    def num_channels(self) -> int:
        """Number of unit channels in the range."""
        return self.end - self.start

    @classmethod
    def from_cfg(cls, cfg: Dict[str, Any]) -> 'Channel':
        """Build from the dict a channel analyzer writes."""
        return cls(cfg['name'], int(cfg['start']), int(cfg['end']),
                   int(cfg.get('expand_ratio', 1)),
                   bool(cfg.get('is_output_channel', True)))

    def to_cfg(self) -> Dict[str, Any]:
        """The dict form (json and yaml friendly)."""
        return dict(name=self.name, start=self.start, end=self.end,
                    expand_ratio=self.expand_ratio,
                    is_output_channel=self.is_output_channel)

    def __repr__(self) -> str:
        side = 'out' if self.is_output_channel else 'in'
        return f'Channel({self.name}, {side}, [{self.start}, {self.end}))'


class MutableChannelUnit(BaseMutable):
    """Couples the channels of several layers under one mutable channel.

    ``output_related`` are the layers whose outputs carry the unit's
    channels, ``input_related`` those that read them. After
    :meth:`prepare_for_pruning` every such layer (a dynamic op by then) has
    the unit's ``mutable_channel`` registered for its range, so setting the
    unit's choice changes all of them at once.

    Subclasses build ``mutable_channel`` and define how a choice becomes
    the mutable channel's state.

    Args:
        num_channels (int): Number of channels of the unit.
        alias (str, optional): Search-group name. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_channels: int,
                 alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        if not isinstance(num_channels, int) or num_channels < 1:
            raise ValueError(f'{type(self).__name__}: `num_channels` must be '
                             f'a positive int, but got {num_channels!r}')
        self.num_channels = num_channels
        self.name = ''
        self.output_related: List[Channel] = []
        self.input_related: List[Channel] = []
        self.mutable_channel = self._build_mutable_channel()

    @abstractmethod
    def _build_mutable_channel(self) -> nn.Module:
        """The mutable channel the unit registers in its layers."""

    @property
    def init_args(self) -> Dict[str, Any]:
        """The constructor arguments, as a unit config stores them."""
        return dict(num_channels=self.num_channels)

    @classmethod
    def init_from_cfg(cls, name: str, cfg: Dict[str, Any],
                      default_args: Optional[Dict] = None
                      ) -> 'MutableChannelUnit':
        """Build a unit from an analyzer's unit config.

        Args:
            name (str): Unit name.
            cfg (dict): ``{'init_args': {...}, 'channels': {...},
                'choice': ...}``; ``choice`` is optional.
            default_args (dict, optional): Arguments for every unit, which
                ``cfg['init_args']`` overrides.
        """
        args = dict(default_args or {})
        args.update(cfg.get('init_args', {}))
        unit = cls(**args)
        unit.name = name
        channels = cfg.get('channels', {})
        unit.output_related = [
            Channel.from_cfg(c) for c in channels.get('output_related', [])
        ]
        unit.input_related = [
            Channel.from_cfg(c) for c in channels.get('input_related', [])
        ]
        for channel in unit.output_related + unit.input_related:
            if channel.num_channels != unit.num_channels:
                raise ValueError(
                    f'Unit {name!r} has {unit.num_channels} channels but its '
                    f'channel {channel} has {channel.num_channels}')
        if 'choice' in cfg:
            unit.current_choice = cfg['choice']
        return unit

    @property
    def channels(self) -> List[Channel]:
        """All related channels, outputs first."""
        return self.output_related + self.input_related

    def prepare_for_pruning(self, model: nn.Module) -> None:
        """Register ``mutable_channel`` in every related layer of ``model``.

        The layers must already be dynamic ops whose ``in_channels`` and
        ``out_channels`` attributes hold ``MutableChannelContainer``s (the
        channel mutator converts them).
        """
        for channel in self.channels:
            module = model.get_submodule(channel.name)
            side = 'out_channels' if channel.is_output_channel else \
                'in_channels'
            container = module.get_mutable_attr(side)
            ratio = channel.expand_ratio
            container.register_mutable(self.mutable_channel,
                                       channel.start * ratio,
                                       channel.end * ratio, ratio)

    @property
    def current_mask(self) -> torch.Tensor:
        """Bool mask of the unit's active channels."""
        return self.mutable_channel.current_mask

    # The original MMRazor kept each unit's mask as a float buffer of its
    # mutable channel, so a mutator's state dict holds
    # ``units.N.mutable_channel.mask``. The same entry is written here (the
    # current mask); loading checks its shape only: a checkpoint does not
    # change the current widths (set them with the mutator or a subnet
    # file). Checkpoints without it load too.
    _MASK_KEY = 'mutable_channel.mask'

    def _save_to_state_dict(self, destination: Dict, prefix: str,
                            keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + self._MASK_KEY] = \
            self.mutable_channel.current_mask.float()

    def _load_from_state_dict(self, state_dict: Dict, prefix: str,
                              local_metadata: Dict, strict: bool,
                              missing_keys: List[str],
                              unexpected_keys: List[str],
                              error_msgs: List[str]) -> None:
        mask = state_dict.pop(prefix + self._MASK_KEY, None)
        if mask is not None and tuple(mask.shape) != (self.num_channels, ):
            error_msgs.append(
                f'size mismatch for {prefix}{self._MASK_KEY}: the checkpoint '
                f'has shape {tuple(mask.shape)}, the unit {self.name!r} has '
                f'{self.num_channels} channels')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    @property
    def activated_channels(self) -> int:
        """Number of active channels."""
        return self.mutable_channel.activated_channels

    def config_template(self,
                        with_init_args: bool = True,
                        with_channels: bool = False) -> Dict[str, Any]:
        """The unit as a config: ``init_args``, ``channels``, ``choice``."""
        cfg: Dict[str, Any] = {}
        if with_init_args:
            cfg['init_args'] = self.init_args
        if with_channels:
            cfg['channels'] = dict(
                output_related=[c.to_cfg() for c in self.output_related],
                input_related=[c.to_cfg() for c in self.input_related])
        cfg['choice'] = self.dump_chosen().chosen
        return cfg

    def fix_chosen(self, chosen: Any) -> None:
        """Set ``chosen`` and freeze the unit."""
        if self.is_fixed and chosen != self.current_choice:
            raise AttributeError(f'{self._describe()} is already fixed')
        self.current_choice = chosen
        self.is_fixed = True

    def dump_chosen(self) -> DumpChosen:
        """The current choice (a plain number)."""
        return DumpChosen(chosen=self.current_choice,
                          meta=dict(num_channels=self.num_channels))

    def _describe(self) -> str:
        return f'{type(self).__name__} {self.name!r}'

    def extra_repr(self) -> str:
        return (f'name={self.name!r}, num_channels={self.num_channels}, '
                f'activated_channels={self.activated_channels}')
