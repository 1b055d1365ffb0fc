"""A plain-Python reference model of HBase's data semantics, written independently of the engine.

It keeps every cell ever written (puts and delete markers, with the sequence
number of the write) and answers reads by brute force: for each column,
filter, sort and slice. The engine must give identical answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUT, DELETE, DELETE_FAMILY_VERSION, DELETE_COLUMN, DELETE_FAMILY = 4, 8, 10, 12, 14
MAX_TS = (1 << 63) - 1


@dataclass
class Family:
    max_versions: int = 1
    min_versions: int = 0
    ttl_s: int | None = None
    keep_deleted: bool = False


@dataclass
class MCell:
    qualifier: bytes
    ts: int
    type: int
    seq: int
    value: bytes


@dataclass
class Model:
    families: dict[bytes, Family]
    # row -> family -> cells
    data: dict[bytes, dict[bytes, list[MCell]]] = field(default_factory=dict)
    seq: int = 0

    # ---- writing ---------------------------------------------------------------------
    def _add(self, row: bytes, fam: bytes, cell: MCell) -> None:
        self.data.setdefault(row, {}).setdefault(fam, []).append(cell)

    def apply(self, row: bytes, ops: list[tuple], now: int) -> None:
        """ops: ("put", fam, q, value, ts|None) | ("delcol", fam, q, ts|None) |
        ("delver", fam, q, ts|None) | ("delfam", fam, ts|None) | ("delfamver", fam, ts) |
        ("delrow", ts|None). One write = one sequence number."""
        cells: list[tuple[bytes, MCell]] = []
        self.seq += 1
        seq = self.seq
        for op in ops:
            kind = op[0]
            if kind == "put":
                _, fam, q, value, ts = op
                cells.append((fam, MCell(q, now if ts is None else ts, PUT, seq, value)))
            elif kind == "delcol":
                _, fam, q, ts = op
                cells.append((fam, MCell(q, now if ts is None else ts, DELETE_COLUMN, seq, b"")))
            elif kind == "delver":
                _, fam, q, ts = op
                if ts is None:
                    latest = self.get(row, {fam: {q}}, now)
                    if not latest:
                        continue
                    ts = latest[0][2]
                cells.append((fam, MCell(q, ts, DELETE, seq, b"")))
            elif kind == "delfam":
                _, fam, ts = op
                cells.append((fam, MCell(b"", now if ts is None else ts, DELETE_FAMILY, seq, b"")))
            elif kind == "delfamver":
                _, fam, ts = op
                cells.append((fam, MCell(b"", ts, DELETE_FAMILY_VERSION, seq, b"")))
            elif kind == "delrow":
                _, ts = op
                for fam in self.families:
                    cells.append(
                        (fam, MCell(b"", now if ts is None else ts, DELETE_FAMILY, seq, b""))
                    )
            else:
                raise AssertionError(kind)
        if not cells:
            self.seq -= 1
            return
        for fam, c in cells:
            self._add(row, fam, c)

    # ---- reading ---------------------------------------------------------------------
    def _expired(self, fam: bytes, ts: int, now: int) -> bool:
        f = self.families[fam]
        return f.ttl_s is not None and ts < now - f.ttl_s * 1000

    def _column(
        self,
        cells: list[MCell],
        fam: bytes,
        q: bytes,
        now: int,
        min_ts: int,
        max_ts: int,
        versions: int,
    ) -> list[MCell]:
        f = self.families[fam]

        def live_marker(c: MCell) -> bool:
            if self._expired(fam, c.ts, now) and f.min_versions == 0:
                return False
            if f.keep_deleted:
                return min_ts <= c.ts < max_ts
            return c.ts >= min_ts

        markers = [c for c in cells if c.type != PUT and live_marker(c)]
        fam_del = max((c.ts for c in markers if c.type == DELETE_FAMILY), default=-1)
        fam_ver = {c.ts for c in markers if c.type == DELETE_FAMILY_VERSION}
        col_del = max(
            (c.ts for c in markers if c.type == DELETE_COLUMN and c.qualifier == q), default=-1
        )
        ver_del = {c.ts for c in markers if c.type == DELETE and c.qualifier == q}
        puts = [c for c in cells if c.type == PUT and c.qualifier == q]
        # newest write wins at equal timestamps
        best: dict[int, MCell] = {}
        for c in puts:
            if c.ts not in best or c.seq > best[c.ts].seq:
                best[c.ts] = c
        out = []
        for ts in sorted(best, reverse=True):
            c = best[ts]
            if self._expired(fam, ts, now) and f.min_versions == 0:
                continue
            if ts <= fam_del or ts in fam_ver or ts <= col_del or ts in ver_del:
                continue
            if not min_ts <= ts < max_ts:
                continue
            out.append(c)
        limit = min(versions, f.max_versions)
        kept = []
        for i, c in enumerate(out[:limit]):
            if self._expired(fam, c.ts, now) and i + 1 > f.min_versions:
                break
            kept.append(c)
        return kept

    def get(
        self,
        row: bytes,
        columns: dict[bytes, set[bytes] | None] | None,
        now: int,
        min_ts: int = 0,
        max_ts: int = MAX_TS,
        versions: int = 1,
    ) -> list[tuple[bytes, bytes, int, bytes]]:
        """[(family, qualifier, ts, value)] in HBase order."""
        out = []
        fams = self.data.get(row, {})
        for fam in sorted(self.families):
            if columns is not None and fam not in columns:
                continue
            cells = fams.get(fam, [])
            quals = sorted({c.qualifier for c in cells if c.type == PUT})
            want = None if columns is None else columns[fam]
            for q in quals:
                if want is not None and q not in want:
                    continue
                for c in self._column(cells, fam, q, now, min_ts, max_ts, versions):
                    out.append((fam, q, c.ts, c.value))
        return out

    def scan(
        self,
        start: bytes | None,
        stop: bytes | None,
        columns: dict[bytes, set[bytes] | None] | None,
        now: int,
        *,
        reverse: bool = False,
        limit: int | None = None,
        min_ts: int = 0,
        max_ts: int = MAX_TS,
        versions: int = 1,
    ) -> list[tuple[bytes, list[tuple[bytes, bytes, int, bytes]]]]:
        rows = sorted(self.data, reverse=reverse)
        out = []
        for r in rows:
            if not reverse:
                if start is not None and r < start:
                    continue
                if stop is not None and r >= stop:
                    continue
            else:
                if start is not None and r > start:
                    continue
                if stop is not None and r <= stop:
                    continue
            cells = self.get(r, columns, now, min_ts, max_ts, versions)
            if cells:
                out.append((r, cells))
                if limit is not None and len(out) >= limit:
                    break
        return out

    # ---- read-modify-write ---------------------------------------------------------------
    def latest(self, row: bytes, fam: bytes, q: bytes, now: int) -> MCell | None:
        cells = self.data.get(row, {}).get(fam, [])
        got = self._column(cells, fam, q, now, 0, MAX_TS, 1)
        return got[0] if got else None

    # ---- major compaction -------------------------------------------------------------------
    def major_compact(self, now: int) -> None:
        """What a major compaction keeps (see query_matcher.retain_for_major_compaction docs)."""
        for _row, fams in self.data.items():
            for fam, cells in fams.items():
                f = self.families[fam]
                kept: list[MCell] = []
                if not f.keep_deleted:
                    quals = sorted({c.qualifier for c in cells if c.type == PUT})
                    for q in quals:
                        kept.extend(self._column(cells, fam, q, now, 0, MAX_TS, f.max_versions))
                else:
                    for c in cells:
                        if c.type != PUT and not (
                            self._expired(fam, c.ts, now) and f.min_versions == 0
                        ):
                            kept.append(c)
                    quals = sorted({c.qualifier for c in cells if c.type == PUT})
                    for q in quals:
                        best: dict[int, MCell] = {}
                        for c in cells:
                            if (
                                c.type == PUT
                                and c.qualifier == q
                                and (c.ts not in best or c.seq > best[c.ts].seq)
                            ):
                                best[c.ts] = c
                        for i, ts in enumerate(sorted(best, reverse=True)):
                            if i + 1 > f.max_versions:
                                break
                            if self._expired(fam, ts, now) and i + 1 > f.min_versions:
                                break
                            kept.append(best[ts])
                fams[fam] = kept
