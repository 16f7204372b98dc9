# Copyright (c) OpenMMLab. All rights reserved.
"""Demo inputs: a batch that makes a model run once (for tracing,
counting, dry runs), made for the model's code base.

MMRazor 1.0's classes and names (its table keeps the original's spelling,
``defaul_demo_inputs``). An mmcls classifier gets random images with
random labels through its own data preprocessor, in ``'loss'`` mode when
training and ``'tensor'`` mode otherwise; any other module a plain tensor.
Detection and segmentation inputs need mmdet / mmseg, which this install
does not have: asking for them says so.
"""
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

Shape = Tuple[int, ...]


def _check_shape(input_shape: Sequence[int]) -> Shape:
    shape = tuple(input_shape)
    if len(shape) != 4 or not all(isinstance(s, int) and s > 0
                                  for s in shape):
        raise ValueError('demo input_shape must be 4 positive ints '
                         f'(N, C, H, W), got {input_shape!r}')
    return shape


class BaseDemoInput:
    """A demo batch of ``input_shape``; ``get_data`` (or a call) makes it.

    Args:
        input_shape (Sequence[int]): ``(N, C, H, W)``. Defaults to
            ``(1, 3, 224, 224)``.
        training (bool): Whether to make a training batch. Defaults to False.
    """

    def __init__(self,
                 input_shape: Sequence[int] = (1, 3, 224, 224),
                 training: bool = False) -> None:
        self.input_shape = _check_shape(input_shape)
        self.training = training

    def get_data(self,
                 model: nn.Module,
                 input_shape: Optional[Sequence[int]] = None,
                 training: Optional[bool] = None) -> Any:
        """The batch for ``model`` (the shape and mode default to the
        constructor's)."""
        shape = self.input_shape if input_shape is None else \
            _check_shape(input_shape)
        training = self.training if training is None else training
        return self._get_data(model, shape, training)

    __call__ = get_data

    def _get_data(self, model: nn.Module, input_shape: Shape,
                  training: bool) -> Any:
        """A random image tensor."""
        return torch.rand(input_shape)


class DefaultMMDemoInput(BaseDemoInput):
    """A batch for an mmengine model: ``dict(inputs, data_samples, mode)``
    after the model's data preprocessor."""

    def _data_samples(self, input_shape: Shape) -> Optional[list]:
        return None

    def _get_data(self, model: nn.Module, input_shape: Shape,
                  training: bool) -> Dict[str, Any]:
        images = torch.randint(0, 256, input_shape, dtype=torch.uint8)
        data = dict(inputs=list(images),
                    data_samples=self._data_samples(input_shape))
        preprocessor = getattr(model, 'data_preprocessor', None)
        if callable(preprocessor):
            data = preprocessor(data, training)
        else:
            data['inputs'] = images.float()
        data['mode'] = 'loss' if training else 'tensor'
        return data


class DefaultMMClsDemoInput(DefaultMMDemoInput):
    """An mmcls batch: random images, random labels below ``num_classes``.

    Args:
        num_classes (int): Labels are drawn below it. Defaults to 1000.
    """

    def __init__(self, *args: Any, num_classes: int = 1000,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.num_classes = num_classes

    def _data_samples(self, input_shape: Shape) -> list:
        from mmcls.structures import ClsDataSample
        labels = torch.randint(0, self.num_classes, (input_shape[0], ))
        return [ClsDataSample().set_gt_label(int(t)) for t in labels]


class _NeedsPackage(DefaultMMDemoInput):
    package = ''

    def _get_data(self, model: nn.Module, input_shape: Shape,
                  training: bool) -> Dict[str, Any]:
        raise ImportError(
            f'{type(self).__name__} makes {self.package} inputs, and '
            f'{self.package} is not supported on this install (it needs a '
            'full mmcv build); use DefaultMMClsDemoInput or a plain '
            'input_shape')


class DefaultMMDetDemoInput(_NeedsPackage):
    """mmdet inputs: not available without mmdet (raises on use)."""
    package = 'mmdet'


class DefaultMMSegDemoInput(_NeedsPackage):
    """mmseg inputs: not available without mmseg (raises on use)."""
    package = 'mmseg'


#: The demo input class of each code base's scope.
defaul_demo_inputs: Dict[str, type] = {
    'default': DefaultMMDemoInput,
    'mmcls': DefaultMMClsDemoInput,
    'mmpretrain': DefaultMMClsDemoInput,
    'mmdet': DefaultMMDetDemoInput,
    'mmseg': DefaultMMSegDemoInput,
}


class DefaultDemoInput(BaseDemoInput):
    """The demo input of a scope (``mmcls``, ...; see
    ``defaul_demo_inputs``), or a plain tensor when ``scope`` is None.

    Args:
        input_shape (Sequence[int]): ``(N, C, H, W)``.
        training (bool): Whether to make a training batch.
        scope (str, optional): The code base of the model.
    """

    def __init__(self,
                 input_shape: Sequence[int] = (1, 3, 224, 224),
                 training: bool = False,
                 scope: Optional[str] = None,
                 **kwargs: Any) -> None:
        super().__init__(input_shape, training)
        if scope is not None and scope not in defaul_demo_inputs:
            raise ValueError(f'DefaultDemoInput: no demo input for scope '
                             f'{scope!r}; known: {sorted(defaul_demo_inputs)}')
        if scope is None and kwargs:
            raise TypeError('DefaultDemoInput without a scope takes no '
                            f'options, got {sorted(kwargs)}')
        self.scope = scope
        self._inner = None if scope is None else defaul_demo_inputs[scope](
            input_shape, training, **kwargs)

    def _get_data(self, model: nn.Module, input_shape: Shape,
                  training: bool) -> Any:
        if self._inner is None:
            return super()._get_data(model, input_shape, training)
        return self._inner.get_data(model, input_shape, training)


for _cls in (BaseDemoInput, DefaultMMDemoInput, DefaultMMClsDemoInput,
             DefaultMMDetDemoInput, DefaultMMSegDemoInput, DefaultDemoInput):
    TASK_UTILS.register_module(module=_cls)
