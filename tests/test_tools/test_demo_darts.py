# Copyright (c) OpenMMLab. All rights reserved.
"""``tools/demo_darts.py``: genotype parsing, random genotypes and the
whole pipeline with ``--quick`` (one epoch per stage on 64 images; the
accuracies mean nothing there)."""
import json

import pytest
import yaml
from mmengine.config import Config

from mmrazor.models.utils import count_mutables
from mmrazor.registry import MODELS

from .conftest import ROOT, TOOLS, run_dirs, run_tool

DEMO = TOOLS / 'demo_darts.py'
DEMO_DIR = ROOT / 'configs' / 'nas' / 'mmcls' / 'darts' / 'demo'
DARTS_DIR = ROOT / 'configs' / 'nas' / 'mmcls' / 'darts'

# The DARTS paper's genotype (DARTS V2, its code's genotypes.py), edges in
# input order per node.
PAPER_NORMAL = [('sep_conv_3x3', 0), ('sep_conv_3x3', 1),
                ('sep_conv_3x3', 0), ('sep_conv_3x3', 1),
                ('skip_connect', 0), ('sep_conv_3x3', 1),
                ('skip_connect', 0), ('dil_conv_3x3', 2)]
PAPER_REDUCE = [('max_pool_3x3', 0), ('max_pool_3x3', 1),
                ('max_pool_3x3', 1), ('skip_connect', 2),
                ('max_pool_3x3', 0), ('skip_connect', 2),
                ('max_pool_3x3', 1), ('skip_connect', 2)]


def test_genotype_of_the_paper_subnet(load_tool, tmp_path):
    demo = load_tool('demo_darts')
    with open(DARTS_DIR / 'DARTS_SUBNET_CIFAR_PAPER_ALIAS.yaml') as f:
        cells = demo.genotype(yaml.safe_load(f))
    assert [e for _, edges in cells['normal'] for e in edges] == PAPER_NORMAL
    assert [e for _, edges in cells['reduce'] for e in edges] == PAPER_REDUCE
    assert [k for k, _ in cells['normal']] == [2, 3, 4, 5]
    assert demo.draw_genotype(cells, str(tmp_path / 'g.png'))
    assert (tmp_path / 'g.png').read_bytes()[:4] == b'\x89PNG'


def test_random_genotypes_belong_to_the_space(load_tool):
    demo = load_tool('demo_darts')
    cfg = Config.fromfile(str(DEMO_DIR / 'darts_supernet_digits.py'))
    algo = MODELS.build(cfg.model)
    subnets = [demo.random_subnet(algo, seed) for seed in range(4)]
    assert subnets[0] == demo.random_subnet(algo, 0)  # seeded
    assert subnets[0] != subnets[1]
    routes = {k for k in subnets[0] if '_p' not in k}
    assert len(routes) == 6 and len(subnets[0]) == 6 + 2 * 9
    for subnet in subnets:
        for key, value in subnet.items():
            if key in routes:  # 2 distinct incoming edges of the node
                assert len(set(value['chosen'])) == 2
                assert all(e.startswith(key + '_p') for e in value['chosen'])
            else:
                assert value['chosen'][0] != 'zero'
    # the retraining config builds a static net from one of them
    sub = Config.fromfile(str(DEMO_DIR / 'darts_subnet_digits.py'))
    sub.model.fix_subnet = subnets[2]
    model = MODELS.build(sub.model)
    assert count_mutables(model) == 0


def test_bad_arguments(load_tool):
    demo = load_tool('demo_darts')
    for argv in (['--search-epochs', '0'], ['--seeds', '1', '1'],
                 ['--warmup-epochs', '-1']):
        with pytest.raises(SystemExit):
            demo.parse_args(argv)
    args = demo.parse_args(['--quick', '--seeds', '3', '4'])
    assert (args.search_epochs, args.retrain_epochs, args.seeds,
            args.warmup_epochs) == (1, 1, [3], 0)


def test_quick_run(tmp_path):
    work_dir = tmp_path / 'work'
    out = run_tool([DEMO, '--quick', '--work-dir', work_dir]).stdout
    assert '[1/3] DARTS search (second order, 1 epochs' in out
    assert 'searched seed 0 epoch 1/1: val top-1' in out
    assert 'random   seed 0 epoch 1/1: val top-1' in out
    assert '==== DARTS on digits: report ====' in out
    (run_dir, ) = run_dirs(work_dir)
    report = json.loads((run_dir / 'report.json').read_text())
    assert report['seeds'] == [0] and report['quick']
    assert report['warmup_epochs'] == 0 and report['arch_lr'] == 3e-2
    (row, ) = report['rows']
    assert report['gain'] == pytest.approx(row['searched'] - row['random'])
    assert row['searched_params_k'] > 0 and row['random_mflops'] > 0
    assert (run_dir / 'genotype.png').read_bytes()[:4] == b'\x89PNG'
    with open(run_dir / 'searched_subnet.yaml') as f:
        searched = yaml.safe_load(f)
    assert len(searched) == 6 + 2 * 9
    assert 'zero' not in {c for v in searched.values() for c in v['chosen']}
    assert (run_dir / 'random_subnet_seed0.yaml').is_file()


def test_warmup_must_leave_architecture_epochs(tmp_path):
    out = run_tool([DEMO, '--search-epochs', '2', '--warmup-epochs', '2',
                    '--work-dir', tmp_path / 'work'], check=False)
    assert out.returncode != 0
    assert '--warmup-epochs (2) must be below the search epochs (2)' in \
        out.stdout
