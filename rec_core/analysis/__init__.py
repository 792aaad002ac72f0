"""Explaining trained runs: attention tables, embedding projections, per-user error analysis.

Pure library code behind the Attention, Embeddings and Error analysis pages (no Streamlit).
`projection` imports umap-learn lazily; the other modules only need torch, numpy and pandas.
"""
from rec_core.analysis.attention_view import (
    FIELD_ORDER,
    PairView,
    TokenView,
    explain,
    explain_many,
    explain_pair,
    field_matrix,
    field_table,
    join_pieces,
    recommended_items,
    shared_max,
    token_table,
    token_view,
)
from rec_core.analysis.entities import (
    EntityNotFound,
    entity_labels,
    item_segment_of,
    resolve_entity,
    search_entities,
    train_counts,
)
from rec_core.analysis.error_analysis import (
    TOP_K,
    TopLists,
    check_same_split,
    never_retrieved,
    held_out_table,
    run_test_ranks,
    top_lists,
    top_side_by_side,
    training_history,
    user_differences,
    user_profile,
)
from rec_core.analysis.pair_rank import PairRank, pair_rank
from rec_core.analysis.loading import RunNotAnalysable, has_attention, load_model, open_run, require_attention, run_config
from rec_core.analysis.projection import (
    Agreement,
    UmapParams,
    colourings,
    cosine_knn,
    embeddings,
    entity_attributes,
    neighbour_overlap,
    neighbourhood_agreement,
    project,
    projection_warm,
    view_agreement,
    warm_up,
)

__all__ = [
    "Agreement", "EntityNotFound", "FIELD_ORDER", "PairRank", "PairView", "RunNotAnalysable", "TOP_K", "TokenView",
    "TopLists", "UmapParams", "check_same_split", "colourings", "cosine_knn", "embeddings", "entity_attributes",
    "entity_labels", "explain", "explain_many", "explain_pair", "field_matrix", "field_table", "has_attention",
    "item_segment_of", "join_pieces", "load_model", "neighbour_overlap", "neighbourhood_agreement",
    "never_retrieved", "open_run", "pair_rank", "project", "projection_warm", "recommended_items", "require_attention",
    "resolve_entity", "run_config", "search_entities", "shared_max", "held_out_table", "run_test_ranks",
    "token_table", "token_view", "top_lists", "top_side_by_side", "train_counts", "training_history",
    "user_differences", "user_profile", "view_agreement", "warm_up",
]
