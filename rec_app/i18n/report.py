"""Strings of the defence report (`rec_app.report`) and of its button on the Compare page.

Kept apart like `rec_app.i18n.analysis`; `rec_app.i18n` merges this table, so `t(key, lang)`
finds these keys. Keys start with `report.`. Pure data; no imports.
"""
from __future__ import annotations

__all__ = ["STRINGS"]


# key -> (English, 简体中文): the table format of rec_app.i18n
STRINGS: dict[str, tuple[str, str]] = {
    # -- the Compare page's export --------------------------------------------------------------------
    "report.export": ("Export report", "导出报告"),
    "report.export_help": ("One self-contained HTML file of this comparison: runs and configs, the tables with the "
                             "verdicts in words, every figure (and the attention heatmaps and projections last shown on "
                             "the analysis pages), the protocol, versions and the machine. Opens offline; print it to "
                             "PDF from the browser.",
                             "本次对比的单个自包含 HTML 文件：实验与配置、表格与文字结论、全部图表（以及分析页上最后显示的注意力热力图与"
                             "嵌入投影）、评估协议、版本与机器。可离线打开；在浏览器中打印即可存为 PDF。"),
    "report.export_zip": ("Report parts (ZIP)", "报告各部分（ZIP）"),
    "report.export_zip_help": ("The report's HTML, its tables as CSV, each run's config.json and every figure as "
                                 "SVG (rendering takes a few seconds).",
                                 "报告的 HTML、CSV 格式的表格、各实验的 config.json，以及 SVG 格式的全部图表（渲染需要几秒钟）。"),
    "report.heading": ("Defence report", "答辩报告"),
    "report.extras": ("Figures from the analysis pages in the report", "报告中包含的分析页图表"),
    "report.extras_help": ("The attention heatmaps and embedding projections last shown on the Attention and "
                             "Embeddings pages in this session.", "本次会话中在注意力页和嵌入投影页上最后显示的注意力热力图和嵌入投影。"),
    "report.no_extras": ("Attention heatmaps and embedding projections join the report once shown on their pages.",
                           "在注意力页和嵌入投影页上显示过的热力图和投影会加入报告。"),
    # -- the report -----------------------------------------------------------------------------------
    "report.title": ("Defence report: {models}", "答辩报告：{models}"),
    "report.generated": ("Generated {when} by rec_core {version}; {n} run(s) in {groups} group(s); reference: "
                           "{reference}.", "由 rec_core {version} 于 {when} 生成；共 {n} 次实验，{groups} 组；参照：{reference}。"),
    "report.no_reference": ("none", "无"),
    "report.contents": ("Contents", "目录"),
    "report.print_hint": ("To save as PDF: print this page from the browser (Ctrl+P / ⌘P) and choose “Save as PDF”.",
                            "存为 PDF：在浏览器中打印本页（Ctrl+P / ⌘P），选择“另存为 PDF”。"),
    "report.s_runs": ("Runs and their configurations", "实验及其配置"),
    "report.runs_note": ("Each group merges runs whose configurations differ only by the seed. Settings that differ "
                           "between groups are in bold.", "每组合并只有种子不同的实验。各组之间不同的设置以粗体显示。"),
    "report.col_what": ("What it ran", "模型设置"), "report.col_run": ("Run", "实验"), "report.col_state": ("State", "状态"),
    "report.col_setting": ("Setting", "设置"),
    "report.s_comparison": ("Comparison on the test split", "测试集上的对比"),
    "report.verdicts": ("Verdicts in words", "文字结论"),
    "report.differences": ("Differences to the reference {reference}", "与参照 {reference} 的差异"),
    "report.no_differences": ("No difference was tested (pick a reference and a second model on Compare).",
                                "未进行差异检验（请在对比页选择参照模型和另一个模型）。"),
    "report.s_segments": ("Test metrics by segment", "按分组的测试指标"),
    "report.s_curves": ("Training curves", "训练曲线"),
    "report.curves_note": ("Training loss and validation metric per epoch; the weights of the best validation epoch "
                             "were tested.", "每轮的训练损失和验证集指标；测试使用的是验证集最佳轮次的权重。"),
    "report.s_attention": ("Attention heatmaps", "注意力热力图"),
    "report.s_projections": ("Embedding projections", "嵌入投影"),
    "report.none_attention": ("No attention heatmap was selected: open the Attention page, pick what to explain, "
                                "then export again.", "未选择注意力热力图：请打开注意力页选择要解释的对象，然后重新导出。"),
    "report.none_projection": ("No embedding projection was selected: open the Embeddings page, then export again.",
                                 "未选择嵌入投影：请打开嵌入投影页，然后重新导出。"),
    "report.no_figure": ("Nothing to draw for this selection.", "当前选择没有可绘制的内容。"),
    "report.s_protocol": ("Evaluation protocol", "评估协议"),
    "report.protocol": (
        "Every metric is computed by full ranking: for each test user, every item (on the cold-items split, every "
        "held-out item) is ranked, with the user's training and validation items masked; no negatives are sampled. Hit, "
        "NDCG, Recall and MRR at K are averaged over the users that have test items. Ties are not broken by item id: "
        "each metric is its exact expected value over all orderings of equally scored items (McSherry and Najork, "
        "2008), and the exact expected metrics of a uniformly random ranking of the same candidates are reported "
        "beside them. Early stopping and every choice of settings use the validation split only; the test split is "
        "read once per run, with the weights of the best validation epoch. Splits ({splits}) are deterministic given "
        "the seed. Two models are paired user by user within each seed, and the seed is the unit of a claim: each seed's "
        "mean difference is one observation, tested by a t-test over the seeds (seeds - 1 degrees of freedom) with "
        "its 95% t-interval, Holm-adjusted over the comparisons shown together. A difference is called better or "
        "worse only when that test is significant at 0.05; otherwise it is inconclusive, and the seeds needed to "
        "decide it (80% power at the observed difference and spread) are given. With one seed no verdict is drawn: "
        "the Wilcoxon test over users is shown as a statement about users only.",
        "所有指标均以全量排序计算：对每个测试用户，对全部物品（冷启动物品划分下为全部留出物品）排序，并屏蔽该用户的训练与验证物品；"
        "不采样负例。K 处的命中率、NDCG、召回率和 MRR 在有测试物品的用户上取平均。并列分数不按物品 ID 打破："
        "每个指标取所有同分物品排列下的精确期望值（McSherry 与 Najork，2008），并同时报告对相同候选均匀随机排序的精确期望指标。"
        "早停与所有设置的选择只使用验证集；每次实验只在验证集最佳轮次的权重上读取一次测试集。划分（{splits}）在给定种子时是确定的。"
        "两个模型在每个种子内按用户成对比较，结论以种子为单位：每个种子的平均差值是一个观测，用跨种子的 t 检验（自由度为种子数 − 1）"
        "及其 95% t 区间检验，并对一同展示的比较做 Holm 校正。只有该检验在 0.05 水平显著时才称为更好或更差；否则记为尚无定论，"
        "并给出判定所需的种子数（在观测到的差值与波动下达到 80% 检验力）。只有一个种子时不下结论：用户上的 Wilcoxon 检验只说明用户间的差异。"),
    "report.s_environment": ("Versions and machine", "版本与机器"),
    "report.environment_note": ("As recorded by each run when it was tested; the last column is the machine that "
                                  "wrote this report.", "各实验测试时记录的环境；最后一列是生成本报告的机器。"),
    "report.this_machine": ("this report", "本报告"),
    "report.env.python": ("Python", "Python"), "report.env.platform": ("platform", "平台"),
    "report.env.rec_core": ("rec_core", "rec_core"), "report.env.code": ("code fingerprint", "代码指纹"),
    "report.env.device": ("device", "设备"), "report.env.cpu_count": ("CPU cores", "CPU 核数"),
    "report.env.torch_threads": ("torch threads", "torch 线程数"), "report.env.cuda_device": ("GPU", "GPU"),
    "report.env.cuda_version": ("CUDA", "CUDA"),
    "report.parts_readme": (
        "Parts of the defence report: report.html (the whole report, opens offline), tables/*.csv (UTF-8), "
        "configs/<run>.json (each run's config), figures/*.svg (every figure; figures/*.json are the same figures as "
        "Plotly JSON).",
        "答辩报告的各部分：report.html（完整报告，可离线打开）、tables/*.csv（UTF-8）、configs/<实验>.json（各实验的配置）、"
        "figures/*.svg（全部图表；figures/*.json 为相同图表的 Plotly JSON）。"),
    "report.svg_failed": ("The figures could not be rendered as SVG ({error}); figures/*.json hold them as Plotly JSON.",
                            "图表无法渲染为 SVG（{error}）；figures/*.json 以 Plotly JSON 格式保存了它们。"),
    "report.attention_caption": ("Run {run}: {what}", "实验 {run}：{what}"),
    "report.projection_caption": ("{what}", "{what}"),
}
