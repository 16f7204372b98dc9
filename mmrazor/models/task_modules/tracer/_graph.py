# Copyright (c) OpenMMLab. All rights reserved.
"""The channel graph a trace fills, and its solution into channel units.

A *block* is a run of channels that one source creates: a module's output
channels, the model input, or a tensor the tracer cannot follow. A tensor's
channel dim is a list of *segments* ``(block, start, end)``. The tracer adds

* links: two equally long segment lists whose channels must be pruned
  together, channel by channel (elementwise ops, shared weights);
* records: the segments a module reads (``in``) or writes (``out``);
* poisons: segments that must not be pruned, each with an event saying why.

:meth:`ChannelGraph.solve` cuts every block where any segment, link or
poison starts or ends, carries the cuts across links until nothing changes,
unions the linked pieces and turns each group of pieces into a unit: every
piece in it has the same length, and channel ``i`` of the unit is channel
``i`` of every piece.
"""
from bisect import bisect_left
from typing import Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

Seg = Tuple[int, int, int]
Segs = Tuple[Seg, ...]


class Record(NamedTuple):
    """What one module reads or writes along its channel dim."""
    module: str
    is_output: bool
    segs: Segs
    expand: int


class Event(NamedTuple):
    """Why some channels are not prunable (or a note without channels)."""
    module: Optional[str]
    op: Optional[str]
    reason: str


class Unit(NamedTuple):
    """A solved unit: its length, module entries and poisoning events."""
    num_channels: int
    output_related: List[dict]
    input_related: List[dict]
    events: List[int]


def seg_len(segs: Segs) -> int:
    """The number of channels of a segment list."""
    return sum(e - s for _, s, e in segs)


def sub_segs(segs: Segs, start: int, end: int) -> Segs:
    """Channels ``[start, end)`` of a segment list, as a segment list."""
    out = []
    pos = 0
    for b, s, e in segs:
        lo, hi = max(start, pos), min(end, pos + e - s)
        if lo < hi:
            out.append((b, s + lo - pos, s + hi - pos))
        pos += e - s
    return tuple(out)


class ChannelGraph:
    """Blocks, links, module records and poisons of one trace."""

    def __init__(self) -> None:
        self.sizes: List[int] = []
        self.links: List[Tuple[int, int, int, int, int]] = []
        self.records: List[Record] = []
        self.poisons: List[Tuple[int, int, int, int]] = []
        self.events: List[Event] = []
        self._record_index: Dict[Tuple[str, bool], int] = {}
        self._module_blocks: Dict[str, int] = {}

    def new_block(self, size: int) -> Segs:
        """A fresh run of ``size`` channels, as a segment list."""
        self.sizes.append(size)
        return ((len(self.sizes) - 1, 0, size), ) if size else ()

    def module_block(self, module: str, size: int) -> Segs:
        """The output channels of ``module``: the same block on every call
        (a module called twice writes the same channels)."""
        block = self._module_blocks.get(module)
        if block is None or self.sizes[block] != size:
            segs = self.new_block(size)
            if segs:
                self._module_blocks[module] = segs[0][0]
            return segs
        return ((block, 0, size), )

    def link(self, a: Segs, b: Segs) -> None:
        """Channel ``i`` of ``a`` and of ``b`` must be pruned together.

        Args:
            a (tuple): A segment list.
            b (tuple): A segment list of the same length.
        """
        i = j = 0
        oa = ob = 0
        while i < len(a) and j < len(b):
            ba, sa, ea = a[i]
            bb, sb, eb = b[j]
            n = min(ea - sa - oa, eb - sb - ob)
            if ba != bb or sa + oa != sb + ob:
                self.links.append((ba, sa + oa, bb, sb + ob, n))
            oa += n
            ob += n
            if oa == ea - sa:
                i, oa = i + 1, 0
            if ob == eb - sb:
                j, ob = j + 1, 0

    def record(self, module: str, is_output: bool, segs: Segs,
               expand: int = 1) -> None:
        """``module`` reads (``is_output=False``) or writes ``segs``.

        A second call of the same module links its segments to the first
        call's instead of adding entries; a call with another channel count
        poisons both.
        """
        key = (module, is_output)
        index = self._record_index.get(key)
        if index is None:
            self._record_index[key] = len(self.records)
            self.records.append(Record(module, is_output, segs, expand))
            return
        old = self.records[index]
        if seg_len(old.segs) == seg_len(segs) and old.expand == expand:
            self.link(old.segs, segs)
        else:
            side = 'output' if is_output else 'input'
            self.poison(old.segs + segs, Event(
                module, None, f'{module} is called more than once with '
                f'different {side} channel counts'))

    def poison(self, segs: Segs, event: Event) -> int:
        """Mark ``segs`` not prunable because of ``event``; returns the
        event's index."""
        self.events.append(event)
        index = len(self.events) - 1
        for b, s, e in segs:
            self.poisons.append((b, s, e, index))
        return index

    def note(self, event: Event) -> None:
        """Report ``event`` without marking any channels."""
        self.events.append(event)

    # -- solving ----------------------------------------------------------
    def _cuts(self) -> List[List[int]]:
        cuts: List[Set[int]] = [{0, n} for n in self.sizes]
        for rec in self.records:
            for b, s, e in rec.segs:
                cuts[b].update((s, e))
        for b, s, e, _ in self.poisons:
            cuts[b].update((s, e))
        for b1, s1, b2, s2, n in self.links:
            cuts[b1].update((s1, s1 + n))
            cuts[b2].update((s2, s2 + n))
        changed = True
        while changed:
            changed = False
            for b1, s1, b2, s2, n in self.links:
                for src, ss, dst, ds in ((b1, s1, b2, s2), (b2, s2, b1, s1)):
                    new = [c - ss + ds for c in cuts[src]
                           if ss < c < ss + n and c - ss + ds not in cuts[dst]]
                    if new:
                        cuts[dst].update(new)
                        changed = True
        return [sorted(c) for c in cuts]

    def solve(self) -> List[Unit]:
        """Group the pieces of all blocks into units.

        Returns:
            list[Unit]: Units in the order their first channels were created
            (the order of the forward). Pieces that no module reads or
            writes are dropped, with their events.
        """
        bounds = self._cuts()
        base = []
        count = 0
        for b in bounds:
            base.append(count)
            count += max(len(b) - 1, 0)
        parent = list(range(count))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def pieces(b: int, s: int, e: int) -> Iterator[Tuple[int, int, int]]:
            cut = bounds[b]
            i = bisect_left(cut, s)
            while i < len(cut) - 1 and cut[i] < e:
                yield base[b] + i, cut[i], cut[i + 1]
                i += 1

        for b1, s1, b2, s2, n in self.links:
            for (p, _, _), (q, _, _) in zip(pieces(b1, s1, s1 + n),
                                            pieces(b2, s2, s2 + n)):
                rp, rq = find(p), find(q)
                if rp != rq:
                    parent[max(rp, rq)] = min(rp, rq)

        sizes = [0] * count
        for b, cut in enumerate(bounds):
            for i in range(len(cut) - 1):
                sizes[base[b] + i] = cut[i + 1] - cut[i]
        units: Dict[int, Unit] = {}
        for rec in self.records:
            offset = 0
            for b, s, e in rec.segs:
                for p, lo, hi in pieces(b, s, e):
                    root = find(p)
                    unit = units.get(root)
                    if unit is None:
                        unit = units[root] = Unit(sizes[root], [], [], [])
                    start = offset + lo - s
                    entry = dict(name=rec.module, start=start,
                                 end=start + hi - lo,
                                 expand_ratio=rec.expand,
                                 is_output_channel=rec.is_output)
                    (unit.output_related if rec.is_output else
                     unit.input_related).append(entry)
                offset += e - s
        for b, s, e, event in self.poisons:
            for p, _, _ in pieces(b, s, e):
                unit = units.get(find(p))
                if unit is not None and event not in unit.events:
                    unit.events.append(event)
        return [units[root] for root in sorted(units)]
