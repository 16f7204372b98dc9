# Copyright (c) OpenMMLab. All rights reserved.
"""An mmcls image classifier whose input resolution is searched too."""
import operator
from typing import Dict, Optional, Union

import torch
from mmcls.models import ImageClassifier

from mmrazor.registry import MODELS, in_mmrazor_scope

from ...mutables import OneShotMutableValue
from ..dynamic_ops import DynamicInputResizer


@MODELS.register_module()
class SearchableImageClassifier(ImageClassifier):
    """mmcls ``ImageClassifier`` with a searched input size and a head that
    follows the backbone's width.

    ``input_resizer_cfg`` adds an input resizer: ``input_resizer`` (a
    :class:`DynamicInputResizer` config) and ``mutable_shape`` (a
    ``OneShotMutableValue`` of ``[height, width]`` choices, aliased
    ``'input_shape'`` unless it names an alias); the original MMRazor's
    ``dict(input_sizes=[[h, w], ...])`` is accepted too and builds the
    same, without a default size. :meth:`extract_feat`
    resizes every batch to the chosen size before the backbone, in training
    and evaluation alike. ``connect_head`` maps head methods to model
    attributes: with
    ``dict(connect_with_backbone='backbone.last_mutable_channels')`` the
    model calls
    ``head.connect_with_backbone(self.backbone.last_mutable_channels)``
    once built. After ``export_static_model`` the resizer is a fixed
    ``InputResizer``.

    Args:
        backbone (dict): As in ``ImageClassifier``.
        neck (dict, optional): As in ``ImageClassifier``.
        head (dict, optional): As in ``ImageClassifier``.
        pretrained (str, optional): As in ``ImageClassifier``.
        train_cfg (dict, optional): As in ``ImageClassifier``.
        data_preprocessor (dict, optional): As in ``ImageClassifier``.
        init_cfg (dict, optional): As in ``ImageClassifier``.
        input_resizer_cfg (dict, optional): See above. Defaults to None (no
            resizing).
        connect_head (dict, optional): See above. Defaults to None.
    """

    def __init__(self,
                 backbone: Dict,
                 neck: Optional[Dict] = None,
                 head: Optional[Dict] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None,
                 input_resizer_cfg: Optional[Dict] = None,
                 connect_head: Optional[Dict[str, str]] = None) -> None:
        super().__init__(backbone, neck, head, pretrained, train_cfg,
                         data_preprocessor, init_cfg)
        self.input_resizer: Optional[DynamicInputResizer] = None
        if input_resizer_cfg is not None:
            self.input_resizer = self._build_input_resizer(input_resizer_cfg)
        for method, path in (connect_head or {}).items():
            self._connect_head(method, path)

    @staticmethod
    def _build_input_resizer(cfg: Dict) -> DynamicInputResizer:
        if isinstance(cfg, dict) and 'input_sizes' in cfg:
            cfg = _from_input_sizes(cfg)
        keys = ('input_resizer', 'mutable_shape')
        if not isinstance(cfg, dict) or sorted(cfg) != sorted(keys):
            raise ValueError(
                'SearchableImageClassifier: `input_resizer_cfg` must be a '
                f'dict with the keys {list(keys)}, but got {cfg!r}')
        built = []
        for key, expected in zip(keys,
                                 (DynamicInputResizer, OneShotMutableValue)):
            item = cfg[key]
            if isinstance(item, dict):
                item = dict(item)
                if key == 'mutable_shape':
                    item.setdefault('alias', 'input_shape')
                item = MODELS.build(in_mmrazor_scope(item))
            if not isinstance(item, expected):
                raise TypeError(
                    f"SearchableImageClassifier: input_resizer_cfg['{key}'] "
                    f'must build a {expected.__name__}, but got '
                    f'{type(item).__name__}')
            built.append(item)
        resizer, shape = built
        resizer.register_mutable_attr('shape', shape)
        return resizer

    def _connect_head(self, method: str, path: str) -> None:
        name = type(self).__name__
        if not self.with_head or not callable(getattr(self.head, method,
                                                      None)):
            raise ValueError(
                f'{name}: connect_head names {method!r}, which the head '
                f'({type(self.head).__name__}) has no method for; e.g. '
                'DynamicLinearClsHead has `connect_with_backbone`')
        try:
            value = operator.attrgetter(path)(self)
        except AttributeError as error:
            raise ValueError(
                f'{name}: connect_head[{method!r}] = {path!r} names no '
                f'attribute of the model ({error}); e.g. '
                "'backbone.last_mutable_channels'") from error
        getattr(self.head, method)(value)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'neck') -> Union[tuple, torch.Tensor]:
        """Resize ``inputs`` to the chosen size, then extract features as
        ``ImageClassifier`` does (``stage`` is 'backbone', 'neck' or
        'pre_logits')."""
        if self.input_resizer is not None:
            inputs = self.input_resizer(inputs)
        return super().extract_feat(inputs, stage)


def _from_input_sizes(cfg: Dict) -> Dict:
    """``input_resizer_cfg`` from the original MMRazor's form,
    ``dict(input_sizes=[[h, w], ...], alias='input_shape')``."""
    extra = sorted(set(cfg) - {'input_sizes', 'alias'})
    sizes = cfg['input_sizes']
    if extra or not isinstance(sizes, (list, tuple)) or not sizes or \
            not all(isinstance(s, (list, tuple)) and len(s) == 2
                    for s in sizes):
        raise ValueError(
            'SearchableImageClassifier: `input_resizer_cfg` with '
            '`input_sizes` takes a list of [height, width] and an optional '
            f'`alias`, but got {cfg!r}')
    return dict(
        input_resizer=dict(type='DynamicInputResizer'),
        mutable_shape=dict(
            type='OneShotMutableValue',
            value_list=[list(s) for s in sizes],
            alias=cfg.get('alias', 'input_shape')))
