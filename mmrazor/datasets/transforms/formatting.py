# Copyright (c) OpenMMLab. All rights reserved.
"""Packing classification samples with CRD's contrast indices."""
from typing import Dict

import numpy as np
import torch
from mmcls.datasets.transforms import PackClsInputs

from mmrazor.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackCRDClsInputs(PackClsInputs):
    """``PackClsInputs`` that also packs what ``CRDLoss`` reads.

    On top of mmcls's packing (``inputs``, ``gt_label`` and the
    ``meta_keys``), the data sample gets ``sample_idx`` (the sample's
    dataset index) and, from :class:`~mmrazor.datasets.CRDDataset` in
    training, ``contrast_sample_idxs`` (its positive, then its negatives) as
    ``torch.long`` data fields.

    Args:
        meta_keys (Sequence[str]): Meta keys to keep, as in
            ``PackClsInputs``; ``sample_idx`` is packed as data instead.
    """

    def transform(self, results: Dict) -> Dict:
        """Pack the sample; see the class docstring."""
        packed = super().transform(results)
        sample = packed['data_samples']
        if 'sample_idx' in results:
            if 'sample_idx' in sample.metainfo_keys():
                del sample.sample_idx  # a data field instead
            sample.set_data(
                dict(sample_idx=torch.tensor(int(results['sample_idx']))))
        if 'contrast_sample_idxs' in results:
            sample.set_data(
                dict(contrast_sample_idxs=torch.as_tensor(
                    np.asarray(results['contrast_sample_idxs']),
                    dtype=torch.long)))
        return packed
