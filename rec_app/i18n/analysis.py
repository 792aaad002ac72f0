"""UI strings of the analysis pages (Attention, Embeddings, Error analysis) and their figures.

Kept apart from `rec_app.i18n` so the two halves of the app can grow without editing one
file; `rec_app.i18n` merges this table, so `t(key, lang)` finds these keys too. Keys are
namespaced (`an.` shared, `attn.`, `emb.`, `err.` per page) and must not clash with i18n's.
Pure data; no imports.
"""
from __future__ import annotations

__all__ = ["STRINGS"]


# key -> (English, 简体中文): the table format of rec_app.i18n
STRINGS: dict[str, tuple[str, str]] = {
    # -- navigation -----------------------------------------------------------------------------------
    "nav.attention": ("Attention", "注意力"),
    "nav.embeddings": ("Embeddings", "嵌入投影"),
    "nav.error_analysis": ("Error analysis", "误差分析"),
    # -- shared by the analysis pages -----------------------------------------------------------------
    "an.no_runs": ("No finished run to analyse yet. Train one first.", "还没有可分析的已完成实验。请先训练一个。"),
    "an.run": ("Run", "实验"), "an.run_a": ("Run A", "实验 A"), "an.run_b": ("Run B", "实验 B"),
    "an.loading_model": ("Loading the run's model…", "正在加载该实验的模型…"),
    "an.cannot_open": ("This run cannot be analysed:", "无法分析该实验："),
    "an.user": ("User", "用户"), "an.item": ("Item", "物品"),
    "an.users": ("Users", "用户"), "an.items": ("Items", "物品"),
    "an.search_item": ("Search items", "搜索物品"), "an.search_user": ("Search users", "搜索用户"),
    "an.search_item_hint": ("id or part of the title", "ID 或标题的一部分"),
    "an.search_user_hint": ("id or words of the profile, e.g. writer", "ID 或简介中的词，例如 writer"),
    "an.pick_item": ("Item", "物品"), "an.pick_user": ("User", "用户"),
    "an.pick_items": ("Items (up to 6, on one colour scale)", "物品（最多 6 个，共用同一色标）"),
    "an.pick_users": ("Users (up to 6, on one colour scale)", "用户（最多 6 个，共用同一色标）"),
    "an.pick_hint": ("Pick at least one.", "请至少选择一个。"),
    "an.no_match": ("Nothing matches “{query}”.", "没有与“{query}”匹配的结果。"),
    "an.csv": ("Table as CSV", "表格导出为 CSV"),
    "an.csv_help": ("In the CSV, item_id / user_id is the dataset's own id (e.g. the MovieLens movie id) and "
                    "item_index_0based / user_index_0based is its 0-based position in the loaded dataset.",
                    "CSV 中 item_id / user_id 是数据集自身的 ID（例如 MovieLens 的电影 ID），"
                    "item_index_0based / user_index_0based 是其在加载后数据集中从 0 开始的位置。"),
    "an.download_svg": ("Vector image for slides and papers (1600 × 900).", "矢量图，适用于幻灯片和论文（1600 × 900）。"),
    "an.download_png": ("Image at slide resolution (3200 × 1800).", "幻灯片分辨率图片（3200 × 1800）。"),
    "an.download_html": ("Standalone interactive page (works offline, hover included).",
                           "独立的交互式网页（可离线打开，保留悬停信息）。"),
    "an.head_n": ("head {n}", "注意力头 {n}"), "an.mean": ("mean", "平均"),
    "an.attention_weight": ("attention weight", "注意力权重"),
    "an.fields_legend": ("Token colours:", "词元颜色："),
    "an.field_share": ("share of attention", "注意力占比"),
    "an.log_scale": ("log scale", "对数刻度"), "an.unknown": ("unknown", "未知"), "an.other": ("other", "其他"),
    "an.tie": ("tie", "持平"), "an.n_users": ("users", "用户数"),
    "an.field.title": ("title", "标题"), "an.field.year": ("year", "年份"), "an.field.genres": ("genres", "类型"),
    "an.field.age": ("age", "年龄"), "an.field.gender": ("gender", "性别"),
    "an.field.occupation": ("occupation", "职业"), "an.field.template": ("template text", "模板文字"),
    "an.field.special": ("special tokens", "特殊词元"),
    "an.colour.genre": ("genre (first)", "类型（首个）"), "an.colour.year": ("year", "年份"),
    "an.colour.popularity": ("popularity (training interactions)", "流行度（训练交互数）"),
    "an.colour.warmth": ("cold / warm", "冷启动 / 非冷启动"), "an.colour.age": ("age", "年龄"),
    "an.colour.gender": ("gender", "性别"), "an.colour.occupation": ("occupation", "职业"),
    "an.colour.activity": ("activity (training interactions)", "活跃度（训练交互数）"),
    "an.warmth.cold": ("cold (not in training)", "冷启动（训练中未出现）"),
    "an.warmth.warm": ("warm (seen in training)", "非冷启动（训练中出现过）"),
    "an.view.id": ("ID view", "ID 视图"), "an.view.text": ("text view", "文本视图"),
    "an.view.fused": ("fused view", "融合视图"),
    # -- attention page ---------------------------------------------------------------------------------
    "attn.title": ("Attention", "注意力"),
    "attn.intro": ("What the LLM-enhanced model reads: each ID embedding queries the tokens of its entity's metadata "
                     "text by cross-attention. Rows are the heads and their mean; each row sums to 1.",
                     "大模型增强模型读取了什么：每个 ID 嵌入通过交叉注意力查询其元数据文本的词元。"
                     "每行是一个注意力头（最后一行为平均），每行之和为 1。"),
    "attn.no_attention_tag": ("no attention", "无注意力"),
    "attn.mode": ("Explain", "解释对象"), "attn.mode_item": ("Items", "物品"), "attn.mode_user": ("Users", "用户"),
    "attn.mode_pair": ("User + item", "用户 + 物品"), "attn.mode_top": ("A user's top recommendations", "用户的推荐列表"),
    "attn.join": ("Join word pieces", "合并子词"),
    "attn.join_help": ("Show sub-word pieces (WordPiece ##, byte-level pieces of one word) as one word, with their "
                         "weights added up.", "将子词片段（WordPiece 的 ##、字节级的同词片段）合并为一个词显示，权重相加。"),
    "attn.content_items": ("Attention on content · items", "注意力落在内容上 · 物品"),
    "attn.content_users": ("Attention on content · users", "注意力落在内容上 · 用户"),
    "attn.content_help": ("Share of this run's cross-attention (mean over heads and over every entity) on tokens of "
                          "field values (title, genres, age, ...), not on special tokens or template words such as "
                          "'Genres:' or 'year old'. Runs trained with content_keys attend to content only (100%).",
                          "本实验交叉注意力（对各头及所有实体取平均）落在字段取值（标题、类型、年龄等）词元上的比例，"
                          "不含特殊词元和模板词（如 'Genres:'、'year old'）。以 content_keys 训练的实验只关注内容（100%）。"),
    "attn.top_k": ("How many", "数量"),
    "attn.score": ("Model score of the pair", "模型对该对的打分"),
    "attn.score_help": ("The dot product of the fused user and item embeddings; the ranking sorts items by it.",
                          "融合后的用户嵌入与物品嵌入的点积；排序按此分数进行。"),
    "attn.heat_title_item": ("Cross-attention over item metadata ({n} item(s))", "物品元数据上的交叉注意力（{n} 个物品）"),
    "attn.heat_title_user": ("Cross-attention over user profiles ({n} user(s))", "用户画像上的交叉注意力（{n} 个用户）"),
    "attn.heat_title_pair": ("User and item side by side · score {score}", "用户与物品对照 · 打分 {score}"),
    "attn.heat_title_top": ("Top {k} recommendations of user {user}", "用户 {user} 的前 {k} 个推荐"),
    "attn.unseen_note": ("Some entities were not seen in training: their query is the neutral (cold-start) "
                           "embedding.", "部分对象在训练中未出现：其查询向量为中性的（冷启动）嵌入。"),
    "attn.read_note": ("Token labels are coloured by field (title, year, genres; age, gender, occupation). All panels "
                         "share one colour scale; hover a cell for its token and weight.",
                         "词元标签按字段着色（标题、年份、类型；年龄、性别、职业）。所有面板共用同一色标；"
                         "鼠标悬停可查看词元与权重。"),
    "attn.fields": ("Attention per field", "按字段汇总的注意力"),
    "attn.field_title_one": ("Share of attention per field · {entity}", "各字段的注意力占比 · {entity}"),
    "attn.field_title_many": ("Share of attention per field (mean over heads)", "各字段的注意力占比（各头平均）"),
    "attn.tables": ("Tables", "数据表"),
    "attn.csv_tokens": ("Token weights as CSV", "词元权重导出为 CSV"),
    "attn.csv_fields": ("Field weights as CSV", "字段权重导出为 CSV"),
    # -- embeddings page --------------------------------------------------------------------------------
    "emb.title": ("Embeddings", "嵌入投影"),
    "emb.intro": ("UMAP maps of learned embeddings: nearby points have similar embeddings (cosine). Compare a "
                    "model's ID, text and fused views, or two runs in the same view.",
                    "学习到的嵌入的 UMAP 二维图：距离近的点嵌入相似（余弦）。可对比同一模型的 ID、文本与融合视图，"
                    "或同一视图下的两个实验。"),
    "emb.layout": ("Show", "显示"), "emb.layout_views": ("Every view of one run", "一个实验的所有视图"),
    "emb.layout_runs": ("Two runs side by side", "两个实验并排"),
    "emb.layout_aligned": ("ID and text in one space", "ID 与文本同一空间"),
    "emb.aligned_title": ("{what}: ID and text vectors in one UMAP ({run})", "{what}：ID 向量与文本向量的联合 UMAP（{run}）"),
    "emb.aligned_none": ("This model has no text view in the space of its ID embeddings (MF, EASE, ItemKNN and GPT2Recommender have none): there is nothing to align.", "该模型没有与 ID 嵌入处于同一空间的文本视图（MF、EASE、ItemKNN 和 GPT2Recommender 都没有），无可对齐。"),
    "emb.aligned_metric": ("Mean cosine ID · text, {group}", "ID 与文本的平均余弦相似度，{group}"),
    "emb.aligned_help": ("Mean over these {what} of the cosine between each one's ID vector and its text vector: 1 means the two views point the same way, 0 unrelated.", "这些{what}各自的 ID 向量与文本向量之间余弦相似度的平均值：1 表示两个视图方向一致，0 表示无关。"),
    "emb.aligned_note": ("One UMAP of the ID vectors (filled circles) and the text vectors (open diamonds) together, every vector scaled to unit length; colour: warm or cold.", "ID 向量（实心圆）与文本向量（空心菱形）一起做一次 UMAP，每个向量先缩放到单位长度；颜色：冷启动或非冷启动。"),
    "emb.side": ("Embeddings of", "嵌入对象"), "emb.view": ("View", "视图"),
    "emb.colour": ("Colour by", "着色依据"),
    "emb.umap_settings": ("UMAP settings", "UMAP 参数"),
    "emb.n_neighbors": ("Neighbours", "近邻数"),
    "emb.n_neighbors_help": ("Small values keep local detail, large values the global shape.",
                               "较小的值保留局部细节，较大的值保留整体结构。"),
    "emb.min_dist": ("Minimum distance", "最小距离"),
    "emb.min_dist_help": ("How tightly points may pack: 0 clumps, 1 spreads evenly.", "点的紧密程度：0 聚成团，1 均匀散开。"),
    "emb.seed": ("Seed", "随机种子"),
    "emb.seed_help": ("The same seed and embeddings always give the same picture.", "相同的种子和嵌入总是得到相同的图。"),
    "emb.different_data": ("The two runs use different datasets, so their points cannot be coloured alike. Pick two "
                             "runs of the same dataset.", "两个实验使用了不同的数据集，无法统一着色。请选择同一数据集的两个实验。"),
    "emb.compiling": ("First projection since the app started: UMAP compiles its code first (up to a minute, "
                        "once). Later projections take seconds.",
                        "应用启动后的第一次投影：UMAP 需要先编译代码（最多约一分钟，仅一次）。之后的投影只需几秒。"),
    "emb.projecting": ("Projecting…", "正在投影…"),
    "emb.progress": ("Projection {k} of {n} ({view})…", "第 {k} / {n} 个投影（{view}）…"),
    "emb.skipped_views": ("Not shown (this model has no such embeddings here): {views}.",
                            "未显示（该模型在此没有这些嵌入）：{views}。"),
    "emb.agreement": ("{run}: ID–text neighbourhood agreement", "{run}：ID 与文本的近邻一致度"),
    "emb.agreement_help": ("Mean share of each entity's {k} nearest neighbours (cosine) in the ID view that are also "
                             "among its {k} nearest in the text view. 1: the same neighbourhoods; chance: {chance}.",
                             "每个对象在 ID 视图中的 {k} 个最近邻（余弦）同时也是其文本视图 {k} 个最近邻的平均比例。"
                             "1 表示近邻完全相同；随机水平：{chance}。"),
    "emb.agreement_chance": ("chance level {chance} ({n} entities)", "随机水平 {chance}（{n} 个对象）"),
    "emb.agreement_none": ("This model has no text view to compare with (ID-only).", "该模型没有可对比的文本视图（仅 ID）。"),
    "emb.nothing": ("Nothing to project for this choice.", "当前选择下没有可投影的嵌入。"),
    "emb.title_views": ("{what} of {run}: UMAP per view", "{run} 的{what}：各视图的 UMAP"),
    "emb.title_runs": ("{what}, {view}: two runs", "{what}，{view}：两个实验对比"),
    "emb.read_note": ("UMAP with {k} neighbours, minimum distance {d}, seed {seed}. Axes have no units; only "
                        "neighbourhoods carry meaning.", "UMAP 参数：近邻数 {k}，最小距离 {d}，种子 {seed}。坐标轴没有单位，"
                        "只有邻近关系有意义。"),
    # -- error analysis page ----------------------------------------------------------------------------
    "err.title": ("Error analysis", "误差分析"),
    "err.intro": ("Two runs of the same data and split, user by user: what one user saw under each, the users "
                    "where each run wins most, and the test items that no top-10 list ever shows.",
                    "逐用户对比同一数据与划分上的两个实验：某个用户在两者下看到了什么、各自优势最大的用户，"
                    "以及从未出现在任何前 10 推荐中的测试物品。"),
    "err.need_two": ("Error analysis needs two finished runs of the same data and split.",
                       "误差分析需要同一数据与划分上的两个已完成实验。"),
    "err.metric": ("Compare users by", "比较用户的指标"),
    "err.one_user": ("One user", "单个用户"),
    "err.user_id": ("User id", "用户 ID"),
    "err.user_id_help": ("Type an id, or click a user in the lists below.", "输入用户 ID，或点击下方列表中的用户。"),
    "err.no_user": ("This user cannot be shown:", "无法显示该用户："),
    "err.user_id_empty": ("Type a user id above (ids such as {examples}), or click a user in the lists below.",
                          "请在上方输入用户 ID（例如 {examples}），或点击下方列表中的用户。"),
    "err.user_id_unknown": ("There is no user with id “{id}” in this dataset ({n} users; ids such as {examples}).",
                            "本数据集中没有 ID 为“{id}”的用户（共 {n} 个用户；ID 例如 {examples}）。"),
    "err.history": ("Training history ({n} interactions)", "训练历史（{n} 条交互）"),
    "err.test_items": ("Held-out test items ({n}) and their rank", "留出的测试物品（{n} 个）及其排名"),
    "err.no_test_items": ("This user has no held-out test items.", "该用户没有留出的测试物品。"),
    "err.rank_note": ("Rank among all ranked items (training and validation items masked), as the test metrics "
                        "count it; ≤ 10 is a hit in the top-10.", "在全部参与排序的物品中的名次（屏蔽训练与验证物品），"
                        "与测试指标的计算一致；≤ 10 即为前 10 命中。"),
    "err.top10": ("Top-10 of both runs (hits ticked)", "两个实验的前 10 推荐（命中已勾选）"),
    "err.hit": ("hit", "命中"),
    "err.lists": ("Users where the runs differ most", "两个实验差异最大的用户"),
    "err.lists_note": ("By per-user {metric} difference (A − B). Click a row to open that user above.",
                         "按每个用户的 {metric} 差值（A − B）排序。点击一行即可在上方查看该用户。"),
    "err.a_wins": ("A ({a}) beats B most", "A（{a}）领先 B 最多"),
    "err.b_wins": ("B ({b}) beats A most", "B（{b}）领先 A 最多"),
    "err.no_wins": ("No user here.", "没有这样的用户。"),
    "err.hist_title": ("Per-user {metric}: A − B", "每个用户的 {metric}：A − B"),
    "err.hist_axis": ("{metric} of A minus {metric} of B", "A 的 {metric} 减去 B 的 {metric}"),
    "err.never": ("Test items that no user's top-10 retrieves", "任何用户的前 10 推荐都未检索到的测试物品"),
    "err.never_note": ("Per popularity segment: how many test items never appear in any test user's top-10 under "
                         "each run; the list holds the items missed by at least one run.",
                         "按流行度分组：每个实验下从未出现在任何测试用户前 10 推荐中的测试物品数；"
                         "列表列出至少被一个实验遗漏的物品。"),
    "err.col.id": ("id", "ID"), "err.col.title": ("title", "标题"), "err.col.rating": ("rating", "评分"),
    "err.col.time": ("time", "时间"), "err.col.segment": ("segment", "分组"), "err.col.rank": ("rank", "名次"),
    "err.col.profile": ("profile", "用户画像"), "err.col.diff": ("A − B", "A − B"),
    "err.col.n_train": ("training interactions", "训练交互数"), "err.col.activity": ("activity", "活跃度"),
    "err.col.test_segments": ("test items by segment", "测试物品分组"),
    "err.col.test_items": ("test items", "测试物品数"), "err.col.train_count": ("training count", "训练次数"),
    "err.col.test_users": ("test users", "测试用户数"),
    "err.col.rank_of": ("rank · {run}", "名次 · {run}"), "err.hit_of": ("hit · {run}", "命中 · {run}"),
    "err.hit_help": ("Ticked: a held-out test item of this user (a hit).", "勾选：该用户留出的测试物品（命中）。"),
    "err.col.never_by": ("never in {run}", "{run} 未检索到"),
    "err.col.never_count": ("never retrieved · {run}", "未检索到 · {run}"),
    "err.never_legend": ("Columns A and B: A = {a}, B = {b}. A tick under A (B) means that no test user's top-10 "
                           "under run A (B) contains the item; the counts per segment count those items.",
                           "A 列与 B 列：A = {a}，B = {b}。A（B）列下的勾表示在实验 A（B）下，没有任何测试用户的前 10 推荐包含该物品；"
                           "各分组的计数即这些物品的数量。"),
    "err.never_tick_help": ("Ticked: no test user's top-10 under {run} contains this item.",
                              "勾选：在 {run} 下没有任何测试用户的前 10 推荐包含该物品。"),
    # -- attention page: the rank of a user-item pair ---------------------------------------------------
    "attn.rank": ("Rank among the user's items", "在该用户物品中的名次"),
    "attn.rank_value": ("{rank} of {n}", "第 {rank} / {n}"),
    "attn.rank_help": ("Where the test ranking puts this item for this user: among the {n} items ranked for the "
                         "user, with the user's training and validation items masked as in the test metrics; tied "
                         "scores count as their mean position.",
                         "测试排序中该物品对该用户的名次：在为该用户排序的 {n} 个物品中（与测试指标一样屏蔽该用户的训练与验证物品）；"
                         "同分时取平均名次。"),
    "attn.rank_none_train": ("not ranked: a training item of this user", "不参与排序：该用户的训练物品"),
    "attn.rank_none_valid": ("not ranked: a validation item of this user", "不参与排序：该用户的验证物品"),
    "attn.rank_none_not_candidate": ("not ranked: not a held-out (cold) item", "不参与排序：不是留出的冷启动物品"),
}
