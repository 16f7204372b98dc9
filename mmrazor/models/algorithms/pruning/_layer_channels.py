# Copyright (c) OpenMMLab. All rights reserved.
"""Channel files in the original MMRazor's older per-layer layout.

The AutoSlim MobileNetV2 subnets MMRazor published (``MBV2_530M.yaml``,
``_320M``, ``_220M``) give, per layer, the width it keeps::

    backbone.conv1.conv.mutable_out_channels:
      current_choice: 32
      origin_channels: 48

Here widths are per channel unit (a group of coupled layers). Each unit's
width is read from its layers' entries, which must agree.
"""
from typing import Any, Dict, List

# the layer entries of one channel, by side
_OUT_KEYS = ('mutable_out_channels', 'mutable_num_features')
_IN_KEYS = ('mutable_in_channels', )


def is_layer_channel_file(subnet: Any) -> bool:
    """Whether a loaded channel file has the per-layer layout."""
    return isinstance(subnet, dict) and bool(subnet) and all(
        isinstance(v, dict) and 'current_choice' in v
        and 'origin_channels' in v for v in subnet.values())


def layer_channels_to_units(subnet: Dict[str, Dict],
                            units: Dict[str, Dict]) -> Dict[str, int]:
    """Unit widths of a per-layer channel file.

    Args:
        subnet (dict): The file, ``{'<layer>.mutable_<side>':
            {'current_choice': int, 'origin_channels': int}}``.
        units (dict): Channel units as
            :meth:`~mmrazor.models.task_modules.ChannelAnalyzer.analyze`
            returns them (``channels.output_related`` /
            ``input_related`` entries with ``name``, ``start``, ``end``).

    Returns:
        dict: ``{unit name: width}``.

    Raises:
        ValueError: A unit's layers give different widths, or a unit has
            no entry in the file.
    """
    widths = {}
    for name, cfg in units.items():
        found: Dict[str, int] = {}
        channels = cfg.get('channels', {})
        for side, keys in (('output_related', _OUT_KEYS),
                           ('input_related', _IN_KEYS)):
            for channel in channels.get(side, []):
                for key in keys:
                    entry = subnet.get(f"{channel['name']}.{key}")
                    if entry is not None and \
                            entry['origin_channels'] == \
                            channel['end'] - channel['start']:
                        found[f"{channel['name']}.{key}"] = int(
                            entry['current_choice'])
        values: List[int] = sorted(set(found.values()))
        if not values:
            raise ValueError(
                f'channel file: no layer of unit {name!r} is in it (its '
                f'layers: {[c["name"] for c in channels.get("output_related", [])][:4]})')  # noqa: E501
        if len(values) > 1:
            raise ValueError(f'channel file: the layers of unit {name!r} keep '
                             f'different widths: {found}')
        widths[name] = values[0]
    return widths
