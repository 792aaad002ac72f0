"""UI strings of the Compare page, its exports and the runs' figures (metric bars, training curves).

One of the tables `rec_app.i18n` merges (key -> (English, 简体中文)); pure data, no imports.
"""
from __future__ import annotations

__all__ = ["STRINGS"]

STRINGS: dict[str, tuple[str, str]] = {
    # -- compare page --------------------------------------------------------------------------------
    "compare.title": ("Compare", "对比"),
    "compare.intro": ("Test metrics over the test users; groups merge runs that differ only by seed (mean ± standard deviation over seeds).",
                      "测试集用户上的指标；“分组”合并只有种子不同的实验（取各种子的均值 ± 标准差）。"),
    "compare.no_runs": ("No finished run to compare yet.", "还没有可以对比的已完成实验。"),
    "compare.mode": ("Compare", "对比方式"), "compare.mode_groups": ("Groups (seeds merged)", "分组（合并种子）"),
    "compare.mode_runs": ("Single runs", "单次实验"),
    "compare.pick": ("Models to compare", "参与对比的模型"), "compare.pick_hint": ("Pick at least one.", "请至少选择一个。"),
    "compare.n_seeds": ("{n} seeds", "{n} 个种子"), "compare.reference": ("Reference", "参照模型"),
    "compare.cutoff": ("Cut-off K", "截断 K"), "compare.all_k": ("all", "全部"),
    "compare.table": ("Test metrics", "测试集指标"),
    "compare.tested_weights": ("Which weights were tested (best epoch and its training phase, per run)",
                               "测试的是哪些权重（每次运行的最佳轮次及其训练阶段）"),
    "col.best_phase": ("Phase", "阶段"), "col.ended": ("How the run ended", "运行如何结束"),
    "compare.control_heading": ("Against the equal-budget control (MF continued)", "与等预算对照（MF 继续训练）比较"),
    "compare.control_rule": ("A warm-started model starts from a finished MF run and trains further. MF trained on from "
                             "the same run with the same training (epochs, learning rate, patience, batch size) gains by "
                             "itself: that control is the reference of a warm-started model, and its difference to it is "
                             "what the text adds. The differences to MF from scratch include the extra training.",
                             "热启动模型从一个已完成的 MF 运行出发继续训练。用同样的训练设置（轮数、学习率、早停耐心值、批大小）从同一运行"
                             "继续训练的 MF 本身也会提升：该对照是热启动模型的参照，与它的差异才是文本带来的。与从头训练的 MF 的差异"
                             "包含了额外训练的作用。"),
    "compare.no_control": ("**{group}** has no equal-budget control yet: train MF continued with the same seeds and "
                           "settings (Train page: \"Also train the equal-budget control\"; command line: `--with-control`). "
                           "Until then its difference to MF includes what the extra training alone gains.",
                           "**{group}** 还没有等预算对照：请用相同种子和设置训练 MF 继续训练（训练页：“同时训练等预算对照”；"
                           "命令行：`--with-control`）。在此之前，它与 MF 的差异包含了仅靠额外训练获得的提升。"),
    "compare.warm_sources": ("Warm-start sources (the MF run each run started from, and how that MF was trained)",
                             "热启动来源（每次运行所用的 MF 运行及该 MF 的训练设置）"),
    "col.run": ("Run", "运行"), "col.warm_start_run": ("Started from MF run", "起点 MF 运行"),
    "col.mf_lr": ("MF learning rate", "MF 学习率"), "col.mf_epochs": ("MF epochs (cap)", "MF 轮数（上限）"),
    "col.mf_patience": ("MF patience", "MF 早停耐心值"), "col.mf_reg_weight": ("MF L2 (reg_weight)", "MF L2（reg_weight）"),
    "col.mf_embed_dim": ("MF embedding size", "MF 嵌入维度"), "col.mf_epochs_run": ("MF epochs trained", "MF 实际训练轮数"),
    "compare.table_note": ("Hit, NDCG, Recall and MRR at K over all test users; ± is the standard deviation over seeds.",
                           "命中率、NDCG、召回率和 MRR 在全部测试用户上计算；± 为各种子间的标准差。"),
    "compare.diffs": ("Differences to {reference}", "与 {reference} 的差异"),
    "compare.rule": ("The seed is the unit of a claim: users are paired within each seed, each seed's mean difference "
                     "is one observation, and the test is a t-test over them (seeds − 1 degrees of freedom) with its "
                     "95% t-interval. A difference counts as an improvement only when that test is significant at 0.05 "
                     "after Holm's adjustment over the comparisons shown; otherwise it is **inconclusive**, with the "
                     "seeds a test would need (80% power at the observed difference and spread). With one seed there "
                     "is **no verdict**: seed noise is untested, and the user-level Wilcoxon p is shown only as a "
                     "statement about users.",
                     "结论的单位是种子：用户在同一种子内成对比较，每个种子的平均差值算作一个观测，对它们做 t 检验（自由度为种子数 − 1）"
                     "并给出 95% t 区间。只有在对本页所示比较做 Holm 校正后仍在 0.05 水平显著，差异才算提升；否则记为**尚无定论**，"
                     "并给出需要的种子数（在观测到的差值与波动下达到 80% 检验力）。只有一个种子时**不下结论**：种子间的波动未经检验，"
                     "用户层面的 Wilcoxon p 值只说明用户间的差异。"),
    "compare.sentence": ("**{group}** vs {reference} ({n} paired users, {seeds} seed(s), {method}): {parts}.",
                         "**{group}** 对比 {reference}（{n} 个成对用户，{seeds} 个种子，{method}）：{parts}。"),
    "compare.method_seed-t-test": ("t-test over seeds", "种子间 t 检验"),
    "compare.method_user-wilcoxon": ("Wilcoxon over users", "用户上的 Wilcoxon 检验"),
    "compare.method_cell": ("{method} · {seeds} seed(s), {n} users", "{method} · {seeds} 个种子，{n} 个用户"),
    "compare.one_seed_note": ("One seed only: seed variation is not covered, so another seed may disagree; no verdict "
                              "is drawn (user-level only). Run at least 3 seeds.",
                              "只有一个种子：未涵盖种子间的波动，换一个种子结论可能不同；因此不下结论（仅有用户层面的检验）。请至少运行 3 个种子。"),
    "compare.col_p_holm": ("p (Holm)", "p 值（Holm 校正）"),
    "compare.col_full_name": ("Full name", "完整名称"),
    "compare.labels": ("What the labels stand for", "各标签的完整含义"),
    "compare.duplicates": ("{group}: {n} more run(s) of a seed it already has were left out ({runs}); every number "
                           "uses one run per seed (the newest), so a repeated seed never counts as seed variation.",
                           "{group}：已有种子的另外 {n} 次运行未计入（{runs}）；所有数字每个种子只用一次运行（最新的），重复的种子不会被当作种子间的波动。"),
    "compare.col_p_users": ("p over users (secondary)", "用户层面 p 值（辅助）"),
    "compare.col_seeds_needed": ("Seeds needed", "所需种子数"),
    "compare.seeds_needed_more": ("> 100", "> 100"),
    "compare.unpaired_seeds": ("Seeds only one side has were left out: {seeds}.", "只有一方具有的种子未参与比较：{seeds}。"),
    "compare.col_p": ("p", "p 值"), "compare.col_method": ("Test", "检验"),
    "compare.col_x_random": ("× random", "× 随机"),
    "compare.random_row": ("Random ranking (expected)", "随机排序（期望值）"),
    "compare.random_note": ("The random ranking row is the exact expected value of a uniformly random order of the "
                            "same candidates, averaged over the reference's seeds; × random divides a value by it.",
                            "“随机排序”一行是同一候选集合均匀随机排序的精确期望值，取参照模型各种子的平均；“× 随机”为数值与它之比。"),
    "compare.show_stopped": ("Show stopped runs", "显示已停止的实验"),
    "compare.show_stopped_help": ("Runs stopped before their planned end are left out unless this is on; they are "
                                  "then marked as stopped and never grouped with finished runs.",
                                  "默认不包含在计划结束前被停止的实验；打开后它们会被标为“已停止”，且不与已完成的实验合并。"),
    "compare.stopped_mark": ("stopped", "已停止"),
    "compare.only_stopped": ("Only stopped runs are available; turn on “Show stopped runs” to compare them.",
                             "只有已停止的实验；打开“显示已停止的实验”即可对比它们。"),
    "compare.reference_help": ("Default: finished runs of the MF baseline (else popularity) on the same dataset and "
                               "split as the other models, the group with the most seeds; never simply the newest run.",
                               "默认：与其他模型相同数据集和划分上、已完成的 MF 基线（没有则用流行度）实验，取种子最多的一组；从不按最新实验选择。"),
    "compare.no_reference": ("No finished MF or popularity runs on the same dataset and split are selected; pick a "
                             "reference to see differences and tests.",
                             "所选模型中没有相同数据集和划分上已完成的 MF 或流行度实验；请选择一个参照模型以查看差异与检验。"),
    "compare.pick_reference": ("Pick a reference", "请选择参照模型"),
    "compare.latex_note": ("Best value per column in bold; † marks a significant improvement over the reference "
                           "(t-test over the per-seed paired differences, p < 0.05 after Holm's adjustment; never from one seed).",
                           "每列最优值加粗；† 表示相对参照模型显著提升（对各种子的成对差值做 t 检验，Holm 校正后 p < 0.05；单个种子从不标注）。"),
    "compare.sentence_better": ("significantly better on {metrics}", "在 {metrics} 上显著更好"),
    "compare.sentence_worse": ("significantly worse on {metrics}", "在 {metrics} 上显著更差"),
    "compare.sentence_ns": ("inconclusive on {n} metric(s)", "在 {n} 个指标上尚无定论"),
    "compare.sentence_needed": ("about {n} seeds would decide {metric}", "约 {n} 个种子可判定 {metric}"),
    "compare.sentence_untested": ("no verdict on {n} metric(s) (one seed: seed noise untested)",
                                  "{n} 个指标不下结论（单个种子：种子间波动未经检验）"),
    "compare.cannot_pair": ("{group} cannot be compared with the reference: {error}", "{group} 无法与参照模型比较：{error}"),
    "compare.need_two": ("Pick a second model to see differences and tests.", "再选择一个模型即可查看差异与检验。"),
    "compare.figures": ("Figures", "图表"),
    "compare.segment_metric": ("Metric of the segment charts", "分组图使用的指标"),
    "compare.curves_capped": ("Training curves show the first {n} runs.", "训练曲线只显示前 {n} 次实验。"),
    "compare.presentation": ("Presentation mode", "演示模式"),
    "compare.presentation_help": ("Larger fonts, lines and markers for projectors and slides.", "加大字体、线条和标记，适合投影与幻灯片。"),
    "compare.image_format": ("Toolbar image format", "工具栏导出格式"),
    "compare.image_format_help": ("The camera icon of each chart saves this format at 3200 × 1800 pixels (16:9).",
                                  "每张图工具栏中的相机图标按此格式导出，分辨率 3200 × 1800（16:9）。"),
    "verdict.better": ("improvement (significant)", "提升（显著）"), "verdict.worse": ("worse (significant)", "下降（显著）"),
    "verdict.inconclusive": ("inconclusive", "尚无定论"), "verdict.untested": ("no verdict (1 seed)", "不下结论（1 个种子）"),
    "verdict.identical": ("identical", "完全相同"),
    # -- exports -------------------------------------------------------------------------------------
    "export.csv": ("Table as CSV", "表格导出为 CSV"), "export.latex": ("Table as LaTeX", "表格导出为 LaTeX"),
    "export.figures_zip": ("All figures (PNG + SVG)", "全部图表（PNG + SVG）"),
    "export.figures_zip_help": ("Renders every figure on this page at slide resolution; takes a few seconds.",
                                "以幻灯片分辨率导出本页所有图表；需要几秒钟。"),
    "export.failed": ("The figures could not be rendered (is Chromium installed? kaleido needs it).",
                      "无法导出图表（是否已安装 Chromium？kaleido 需要它）。"),
    "export.latex_caption": ("Test metrics (mean ± std over seeds); reference: {reference}.", "测试指标（各种子均值 ± 标准差）；参照：{reference}。"),
    "export.latex_note": ("Best value per column in bold; † marks a significant improvement over the reference "
                          "(t-test over the per-seed paired differences, p < 0.05 after Holm's adjustment; never from one seed).",
                          "每列最优值加粗；† 表示相对参照模型显著提升（对各种子的成对差值做 t 检验，Holm 校正后 p < 0.05；单个种子从不标注）。"),
    # -- figures -------------------------------------------------------------------------------------
    "fig.metrics_title": ("Test metrics", "测试指标"), "fig.value": ("Value", "数值"),
    "fig.segments_item": ("{metric} by item popularity", "按物品流行度分组的{metric}"),
    "fig.segments_item_axis": ("Item segment (training popularity)", "物品分组（训练集流行度）"),
    "fig.segments_user": ("{metric} by user activity", "按用户活跃度分组的{metric}"),
    "fig.segments_user_axis": ("User activity (training interactions, tertiles)", "用户活跃度（训练交互数三分位）"),
    "fig.curves_title": ("Training curves", "训练曲线"), "fig.loss": ("Training loss", "训练损失"),
    "fig.valid_metric": ("Validation {metric}", "验证集 {metric}"), "fig.epoch": ("Epoch", "轮次"),
    "loss.total": ("total loss", "总损失"), "loss.bpr": ("BPR loss", "BPR 损失"), "loss.contrastive": ("contrastive loss", "对比损失"),
    "loss.reg": ("L2 penalty on the MF embeddings (reg_weight)", "MF 嵌入的 L2 惩罚（reg_weight）"),
    "segment.cold": ("cold", "冷门（未见）"), "segment.tail": ("tail", "长尾"), "segment.torso": ("torso", "腰部"),
    "segment.head": ("head", "头部"), "segment.low": ("low activity", "低活跃"), "segment.mid": ("medium activity", "中活跃"),
    "segment.high": ("high activity", "高活跃"),
    "metric.hit": ("Hit", "命中率"), "metric.ndcg": ("NDCG", "NDCG"), "metric.recall": ("Recall", "召回率"),
    "metric.mrr": ("MRR", "MRR"), "metric.precision": ("Precision", "精确率"),
    "metric.on_test": ("test {metric}", "测试集 {metric}"), "metric.on_valid": ("validation {metric}", "验证集 {metric}"),
    "duration.s": ("{s} s", "{s} 秒"), "duration.min": ("{m} min", "{m} 分钟"), "duration.min_s": ("{m} min {s} s", "{m} 分 {s} 秒"),
    "duration.h_min": ("{h} h {m} min", "{h} 小时 {m} 分钟"),
}
