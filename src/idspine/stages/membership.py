"""Stage 4b — membership: where each record ends up, with its status.

Every record gets exactly one row whose status says where it is: `unique` (a profile of
its own), `matched` (in a profile of several records), or unresolved — `missing` (no
usable identifier) or `conflict` (under `quarantine`, the smaller side of a refused pair
leaves the profiles). Two flags say what to look at: `refused_merge` (a pair touching the
record was refused) and `over_limit` (the record alone holds more values of an identifier
than its limit, so it can join nobody who holds one).
"""

from __future__ import annotations

from sqlglot import exp

from idspine.config.load import Config
from idspine.plan import Step
from idspine.sql.build import lit, sql, values_table
from idspine.stages.overrides import IDENTIFIER_PREFIX

# Tables later stages read (the pipeline keeps these and releases the stage's others).
PROVIDES = ("membership",)


def _over_limit_records(config: Config) -> exp.Expr:
    """Records that alone hold more values of an identifier than its limit: no union with
    them can pass that limit, so they are flagged rather than left to block silently."""
    limited = [(i.name, i.limit) for i in config.identifiers if i.limit is not None]
    if not limited:
        return sql("SELECT record_id, CAST(NULL AS VARCHAR) AS detail FROM records WHERE false")
    return sql(
        "SELECT u.record_id, min(u.identifier || ' holds ' || CAST(u.n AS VARCHAR) || "
        "' values (limit ' || CAST(l.max_values AS VARCHAR) || ')') AS detail FROM ("
        "SELECT record_id, identifier, count(DISTINCT value) AS n FROM usable_values "
        "GROUP BY record_id, identifier) AS u JOIN $limits ON l.identifier = u.identifier "
        "WHERE u.n > l.max_values GROUP BY u.record_id",
        limits=values_table(["identifier", "max_values"], limited, "l"),
    )


def plan_membership(config: Config) -> list[Step]:
    quarantine = config.conflict_policy == "quarantine"
    steps = [
        Step(
            "refused_pairs",
            sql(
                "SELECT p.left_id, p.right_id, s.conflict_identifier FROM ranked_pairs AS p "
                "JOIN pair_status AS s ON s.rank = p.rank WHERE s.status = 'refused'"
            ),
        ),
        Step(
            "refused_records",
            sql(
                "SELECT record_id, min(detail) AS detail FROM ("
                "SELECT p.left_id AS record_id, 'refused pair with ' || r.source || ':' || "
                "r.record_key || ' on ' || p.conflict_identifier AS detail FROM refused_pairs AS p "
                "JOIN records AS r ON r.record_id = p.right_id UNION ALL "
                "SELECT p.right_id, 'refused pair with ' || r.source || ':' || r.record_key || "
                "' on ' || p.conflict_identifier FROM refused_pairs AS p "
                "JOIN records AS r ON r.record_id = p.left_id) GROUP BY record_id"
            ),
        ),
        Step(
            "cluster_sizes",
            sql("SELECT profile, count(*) AS size FROM profile_of GROUP BY profile"),
        ),
        # Under quarantine, the smaller final profile of each refused pair leaves (ties: the
        # profile founded by the later record), so the larger, better-supported one stays.
        Step(
            "quarantined_profiles",
            sql(
                "SELECT DISTINCT CASE WHEN sa.size < sb.size OR (sa.size = sb.size "
                "AND pa.profile > pb.profile) THEN pa.profile ELSE pb.profile END AS profile "
                "FROM refused_pairs AS r JOIN profile_of AS pa ON pa.record_id = r.left_id "
                "JOIN profile_of AS pb ON pb.record_id = r.right_id "
                "JOIN cluster_sizes AS sa ON sa.profile = pa.profile "
                "JOIN cluster_sizes AS sb ON sb.profile = pb.profile WHERE $quarantine "
                # A steward's decision is not a data conflict: it never quarantines anyone.
                "AND NOT starts_with(r.conflict_identifier, $prefix)",
                quarantine=lit(quarantine),
                prefix=lit(IDENTIFIER_PREFIX),
            ),
        ),
        # A record that alone holds more values of an identifier than its limit: no union
        # with it can pass that limit, so it is flagged rather than left to block silently.
        Step("over_limit_records", _over_limit_records(config)),
        # Status says where the record is; the flags say what to look at.
        Step(
            "membership",
            sql(
                "SELECT r.record_id, r.source, r.record_key, r.order_ts, "
                # A record without a usable identifier is in a profile only when a
                # must-link override put it there.
                "CASE WHEN (h.record_id IS NULL AND s.size = 1) OR q.profile IS NOT NULL "
                "THEN NULL ELSE p.profile END AS cluster, "
                "CASE WHEN h.record_id IS NULL AND s.size = 1 THEN 'missing' "
                "WHEN q.profile IS NOT NULL THEN 'conflict' "
                "WHEN s.size > 1 THEN 'matched' ELSE 'unique' END AS status, "
                "f.record_id IS NOT NULL AS refused_merge, "
                "o.record_id IS NOT NULL AS over_limit, "
                "CASE WHEN h.record_id IS NULL AND s.size = 1 THEN 'no usable identifier: "
                "every mapped value is empty, invalid or blocked' WHEN q.profile IS NOT NULL THEN "
                "coalesce(f.detail, 'in a profile quarantined by a refused pair') END AS detail "
                "FROM records AS r JOIN profile_of AS p ON p.record_id = r.record_id "
                "JOIN cluster_sizes AS s ON s.profile = p.profile "
                "LEFT JOIN (SELECT DISTINCT record_id FROM usable_values) AS h "
                "ON h.record_id = r.record_id "
                "LEFT JOIN quarantined_profiles AS q ON q.profile = p.profile "
                "LEFT JOIN refused_records AS f ON f.record_id = r.record_id "
                "LEFT JOIN over_limit_records AS o ON o.record_id = r.record_id"
            ),
        ),
    ]
    return steps
