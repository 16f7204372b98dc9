# Copyright (c) OpenMMLab. All rights reserved.
"""The evolution search under DDP: 2 CPU processes with gloo."""
import json

from ..test_tools.conftest import TOOLS, free_port, run_tool, tool_env
from .conftest import search_cfg


def test_search_with_two_processes(tmp_path):
    work_dir = tmp_path / 'work'
    cfg = search_cfg(
        work_dir, max_epochs=2, num_candidates=4, top_k=2, num_mutation=2,
        num_crossover=2)
    cfg.custom_imports.imports.append('tests.test_engine.rank_dump_hook')
    cfg.custom_hooks = [dict(type='mmrazor.RankRecordsDumpHook')]
    cfg.log_level = 'INFO'
    path = tmp_path / 'search.py'
    cfg.dump(str(path))
    run_tool(
        [TOOLS / 'dist_train.sh', path, 2, '--cfg-options',
         'env_cfg.dist_cfg.backend=gloo'],
        env=tool_env(PORT=str(free_port())))
    ranks = [
        json.loads((work_dir / f'records_rank{r}.json').read_text())
        for r in (0, 1)
    ]
    # Both ranks hold the same population, scores and top-k.
    assert ranks[0] == ranks[1]
    assert len(ranks[0]['records']) >= 4
    assert (work_dir / 'best_fix_subnet.yaml').is_file()
    assert (work_dir / 'search_state.json').is_file()
