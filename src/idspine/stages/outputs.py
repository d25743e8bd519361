"""Stage 7a — shape the published tables of spec §7 from the work tables."""

from __future__ import annotations

from sqlglot import exp

from idspine.config.load import Config
from idspine.plan import Step
from idspine.sql.build import sql, values_table
from idspine.stages.overrides import MUST_LINK_PRIORITY, MUST_LINK_RULE

# published name -> work table holding it
PUBLISHED = {
    "identity_golden": "golden",
    "identity_match": "out_match",
    "identity_matched_ids": "out_matched_ids",
    "identity_lookup": "out_lookup",
    "identity_match_pairs": "out_match_pairs",
    "identity_unresolved_records": "out_unresolved",
    "identity_profile_redirects": "profile_redirects",
    "identity_profile_ids": "profile_registry",
    "identity_hub_values": "hub_values",
    "identity_override_status": "override_status",
    "identity_retired_members": "retired_members",
    "identity_rule_pairs": "out_rule_pairs",
    "identity_record_state": "out_record_state",
}
APPENDED = {"identity_runs": "out_run", "identity_run_metrics": "run_metrics"}


def plan_outputs(config: Config) -> list[Step]:
    id_column = exp.to_identifier(config.output.id_column, quoted=True)
    rules = values_table(
        ["priority", "rule"],
        [(MUST_LINK_PRIORITY, MUST_LINK_RULE)] + [(r.priority, r.name) for r in config.rules],
        "n",
    )
    return [
        Step(
            "out_match",
            sql(
                "SELECT m.source, m.record_key, a.profile_id AS $id, m.status, m.refused_merge, "
                "m.over_limit FROM membership AS m "
                "LEFT JOIN profile_assignment AS a ON a.cluster = m.cluster",
                id=id_column,
            ),
        ),
        Step(
            "out_unresolved",
            sql(
                "SELECT source, record_key, status AS reason, detail FROM membership "
                "WHERE cluster IS NULL"
            ),
        ),
        Step(
            "out_lookup",
            sql(
                "SELECT source, record_key, identifier, coalesce(origin, raw_value) AS raw_value, "
                "value, is_blocked, region FROM lookup"
            ),
        ),
        Step(
            "out_matched_ids",
            sql(
                "SELECT a.profile_id AS $id, g.identifier, g.value, g.record_count, "
                "g.first_seen, g.last_seen FROM (SELECT m.cluster, u.identifier, u.value, "
                "count(*) AS record_count, min(m.order_ts) AS first_seen, "
                "max(m.order_ts) AS last_seen FROM usable_values AS u "
                "JOIN membership AS m ON m.record_id = u.record_id "
                "WHERE m.cluster IS NOT NULL GROUP BY m.cluster, u.identifier, u.value) AS g "
                "JOIN profile_assignment AS a ON a.cluster = g.cluster",
                id=id_column,
            ),
        ),
        Step(
            "out_match_pairs",
            sql(
                "SELECT a.source AS left_source, a.record_key AS left_key, "
                "b.source AS right_source,"
                " b.record_key AS right_key, n.rule, p.score, s.status, s.conflict_identifier "
                "FROM ranked_pairs AS p JOIN pair_status AS s ON s.rank = p.rank "
                "JOIN records AS a ON a.record_id = p.left_id "
                "JOIN records AS b ON b.record_id = p.right_id "
                "JOIN $rules ON n.priority = p.priority",
                rules=rules,
            ),
        ),
        Step(
            "out_rule_pairs",
            sql(
                # Every rule each pair passed, not only the strongest: the per-rule pair counts
                # of the metrics read it, and an incremental run keeps it outside its region.
                "SELECT a.source AS left_source, a.record_key AS left_key, "
                "b.source AS right_source, b.record_key AS right_key, n.rule "
                "FROM rule_pairs_all AS p JOIN records AS a ON a.record_id = p.left_id "
                "JOIN records AS b ON b.record_id = p.right_id "
                "JOIN $rules ON n.priority = p.priority",
                rules=rules.copy(),
            ),
        ),
    ]
