# Copyright (c) OpenMMLab. All rights reserved.
"""Feature maps of recorded modules, drawn as images during training."""
import os.path as osp
from typing import Dict, List, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist
from torch import Tensor

from mmrazor.models.distillers._mappings import RECORDER_SHORT_TYPES
from mmrazor.models.task_modules import RecorderManager
from mmrazor.registry import HOOKS
from mmrazor.utils.atomic_file import atomic_open
from mmrazor.utils.model_wrappers import unwrap_model

#: Channel reductions: mmengine's draw_featmap's and 'pixel_wise_max'.
REDUCTIONS = ('pixel_wise_max', 'squeeze_mean', 'select_max', None)


def norm(feat: Tensor) -> Tensor:
    """Standardise each channel of ``(N, C, H, W)`` features over N, H, W.
    """
    if feat.dim() != 4:
        raise ValueError('norm: features must be (N, C, H, W), got shape '
                         f'{tuple(feat.shape)}')
    n, c, h, w = feat.shape
    flat = feat.permute(1, 0, 2, 3).reshape(c, -1)
    flat = (flat - flat.mean(dim=1, keepdim=True)) / (
        flat.std(dim=1, keepdim=True) + 1e-6)
    return flat.reshape(c, n, h, w).permute(1, 0, 2, 3)


def reduce_channels(featmap: Tensor, channel_reduction: Optional[str]
                    ) -> Tensor:
    """``'pixel_wise_max'`` keeps the largest activation of each pixel,
    ``(C, H, W) -> (1, H, W)``; other reductions are left to mmengine."""
    if channel_reduction == 'pixel_wise_max':
        return featmap.max(dim=0, keepdim=True)[0]
    return featmap


@HOOKS.register_module()
class RazorVisualizationHook(Hook):
    """Draws the feature maps that recorders capture, as heat maps.

    Before training and after every ``interval``-th epoch (stage
    ``before_run``, then ``epoch_<epochs done>``), each sample
    ``data_idx`` of the validation dataset goes through ``model.test_step``
    with the ``recorders`` on; every entry of ``mappings`` names a recorded
    tensor (or tuple of tensors, one image each), whose first sample is
    drawn with mmengine's ``Visualizer.draw_featmap`` (optionally over the
    input image). Images are written to
    ``work_dir/<timestamp>/<out_dir>/<stage>_data_idx_<i>_<name>_<j>.jpg``
    when ``out_dir`` is set, shown with ``show``, and otherwise sent to the
    visualizer's backends (TensorBoard, W&B...) with ``add_image``.

    Args:
        recorders (dict): ``{name: recorder cfg}``; sources are module paths
            of the runner's model (e.g. ``'architecture.neck'`` inside a
            distillation algorithm). The original's short types
            (``'ModuleOutputs'``) are accepted.
        mappings (dict): ``{image name: dict(recorder=..., record_idx=0,
            data_idx=None)}``.
        enabled (bool): Whether to draw at all. Defaults to False.
        data_idx (int | list[int]): Validation samples drawn. Defaults to 0.
        interval (int): Draw every ``interval`` epochs. Defaults to 1.
        show (bool): Show the images in a window. Defaults to False.
        wait_time (float): Seconds each shown image stays. Defaults to 0.1.
        out_dir (str, optional): Folder (under the run's work dir and
            timestamp) of the image files. Defaults to None.
        file_client_args (dict): Only ``dict(backend='disk')``; kept for
            config compatibility.
        is_overlaid (bool): Draw over the input image. Defaults to True.
        visualization_cfg (dict): Arguments of ``draw_featmap``:
            ``channel_reduction`` ('pixel_wise_max', 'squeeze_mean',
            'select_max' or None), ``topk``, ``arrangement``,
            ``resize_shape``, ``alpha``.
        use_norm (bool): Standardise each channel first (:func:`norm`).
            Defaults to False.
    """

    priority = 'LOW'

    def __init__(self,
                 recorders: Dict,
                 mappings: Dict,
                 enabled: bool = False,
                 data_idx: Union[int, List[int]] = 0,
                 interval: int = 1,
                 show: bool = False,
                 wait_time: float = 0.1,
                 out_dir: Optional[str] = None,
                 file_client_args: Dict = dict(backend='disk'),
                 is_overlaid: bool = True,
                 visualization_cfg: Dict = dict(
                     channel_reduction='pixel_wise_max',
                     topk=20,
                     arrangement=(4, 5),
                     resize_shape=None,
                     alpha=0.5),
                 use_norm: bool = False) -> None:
        name = type(self).__name__
        if dict(file_client_args).get('backend', 'disk') not in ('disk',
                                                                 'local'):
            raise ValueError(f'{name}: only file_client_args=dict(backend='
                             f"'disk') is supported, got {file_client_args}")
        reduction = dict(visualization_cfg).get('channel_reduction')
        if reduction not in REDUCTIONS:
            raise ValueError(f'{name}: channel_reduction={reduction!r} is '
                             f'not supported; allowed: {list(REDUCTIONS)}')
        if isinstance(interval, bool) or not isinstance(interval,
                                                        int) or interval < 1:
            raise ValueError(
                f'{name}: `interval` must be an int >= 1, got {interval!r}')
        recorders = {
            k: dict(cfg, type=RECORDER_SHORT_TYPES.get(cfg['type'],
                                                       cfg['type']))
            if isinstance(cfg, dict) and 'type' in cfg else cfg
            for k, cfg in recorders.items()
        }
        self.recorder_manager = RecorderManager(recorders)
        for key, record in mappings.items():
            if not isinstance(record, dict) or 'recorder' not in record:
                raise ValueError(f'{name}: mappings[{key!r}] must be a dict '
                                 f'with a `recorder`, got {record!r}')
            self.recorder_manager.get_recorder(record['recorder'])
        self.mappings = mappings
        self.enabled = enabled
        self.data_idx = [data_idx] if isinstance(data_idx, int) else list(
            data_idx)
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.out_dir = out_dir
        self.is_overlaid = is_overlaid
        self.visualization_cfg = dict(visualization_cfg)
        self.use_norm = use_norm
        self._step = 0
        #: Files written so far.
        self.written: List[str] = []

    @master_only
    def before_run(self, runner) -> None:
        model = unwrap_model(runner.model)
        self.recorder_manager.initialize(model)

    @master_only
    def before_train(self, runner) -> None:
        if self.enabled and runner.epoch % self.interval == 0:
            self.visualize(runner, 'before_run')

    @master_only
    def after_train_epoch(self, runner) -> None:
        done = runner.epoch + 1  # epochs completed
        if self.enabled and done % self.interval == 0:
            self.visualize(runner, f'epoch_{done}')

    def _dataset(self, runner):
        for loader in ('val_dataloader', 'test_dataloader',
                       'train_dataloader'):
            try:
                return getattr(runner, loader).dataset
            except (AttributeError, RuntimeError, TypeError):
                continue
        raise RuntimeError('RazorVisualizationHook needs a val, test or '
                           'train dataloader to draw samples from')

    def _overlay(self, runner, inputs: Tensor) -> Optional[np.ndarray]:
        if not self.is_overlaid or inputs.dim() != 3:
            return None
        image = inputs.detach().cpu().permute(1, 2, 0).numpy()
        image = np.clip(image, 0, 255).astype(np.uint8)
        model = unwrap_model(runner.model)
        preprocessor = getattr(model, 'data_preprocessor', None)
        if image.shape[2] == 3 and getattr(preprocessor,
                                           '_channel_conversion', False):
            image = image[..., ::-1]  # BGR samples: show them as RGB
        return np.ascontiguousarray(image)

    def visualize(self, runner, stage: str) -> List[str]:
        """Draw every mapping for every ``data_idx`` sample now."""
        dataset = self._dataset(runner)
        out_dir = None
        if self.out_dir is not None:
            out_dir = osp.join(runner.work_dir, runner.timestamp,
                               self.out_dir)
            mkdir_or_exist(out_dir)
        visualizer = runner.visualizer
        written = []
        for idx in self.data_idx:
            sample = dataset[idx]
            self.recorder_manager.reset_data()
            with torch.no_grad(), self.recorder_manager:
                runner.model.test_step(pseudo_collate([sample]))
            image = self._overlay(runner, sample['inputs'])
            for name, record in self.mappings.items():
                feats = self.recorder_manager.get_record_data(
                    record['recorder'], record.get('record_idx', 0),
                    record.get('data_idx'))
                if isinstance(feats, Tensor):
                    feats = (feats, )
                for i, feat in enumerate(feats):
                    title = f'{stage}_data_idx_{idx}_{name}_{i}'
                    drawn = self.draw(feat, image)
                    if self.show:
                        visualizer.show(drawn, win_name=title,
                                        wait_time=self.wait_time)
                    if out_dir is not None:
                        path = osp.join(out_dir, f'{title}.jpg')
                        _write_jpg(drawn, path)
                        written.append(path)
                    elif not self.show:
                        visualizer.add_image(title, drawn, step=self._step)
                    self._step += 1
        self.written.extend(written)
        return written

    def draw(self, feat: Tensor, image: Optional[np.ndarray]) -> np.ndarray:
        """The RGB heat map of the first sample of ``feat`` (N, C, H, W)."""
        from mmengine.visualization import Visualizer
        if feat.dim() != 4:
            raise ValueError('RazorVisualizationHook draws (N, C, H, W) '
                             f'feature maps, got shape {tuple(feat.shape)}')
        feat = feat.detach().float().cpu()
        if self.use_norm:
            feat = norm(feat)
        cfg = dict(self.visualization_cfg)
        featmap = reduce_channels(feat[0], cfg.get('channel_reduction'))
        if cfg.get('channel_reduction') == 'pixel_wise_max':
            cfg['channel_reduction'] = 'squeeze_mean'  # one channel left
        if image is not None and cfg.get('resize_shape') is None \
                and tuple(featmap.shape[1:]) != image.shape[:2]:
            featmap = F.interpolate(
                featmap[None], image.shape[:2], mode='bilinear',
                align_corners=False)[0]
        return Visualizer.draw_featmap(featmap, image, **cfg)


def _write_jpg(image: np.ndarray, path: str) -> None:
    import cv2
    ok, data = cv2.imencode('.jpg', np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise RuntimeError(f'could not encode the image for {path}')
    with atomic_open(path, 'wb') as f:
        f.write(data.tobytes())
