"""Every UI string and figure label of the app, in English and Simplified Chinese, in one place.

`t(key, lang, **fmt)` returns the string in `lang` ("en" or "zh"), formatted with `fmt`.
A missing key falls back to `default` if given, else to the key itself in brackets, and a
string that cannot be formatted with `fmt` is shown unformatted, so a forgotten translation is
visible in the page instead of crashing it. In strict mode ($REC_APP_STRICT_STRINGS=1, which
the tests set) both raise instead: `MissingString`, `StringFormatError`.

One table format: key -> (English, 简体中文). The analysis pages and the defence report keep
their tables in `i18n_analysis.py` and `i18n_report.py` in the same format; they are merged
here, and a key defined twice is an error. Pure data; no Streamlit.
"""
from __future__ import annotations

import math
import os

from rec_app.i18n.analysis import STRINGS as _ANALYSIS_STRINGS
from rec_app.i18n.report import STRINGS as _REPORT_STRINGS

__all__ = ["LANGS", "STRICT_ENV", "STRINGS", "MissingString", "StringFormatError", "strict", "t", "metric_label", "part_metric_label", "segment_label", "format_duration"]

LANGS: tuple[str, ...] = ("en", "zh")

# key -> (English, 简体中文)
STRINGS: dict[str, tuple[str, str]] = {
    # -- app frame, navigation, language ------------------------------------------------------------
    "app.name": ("LLM-enhanced recommenders", "大模型增强推荐"),
    "lang.label": ("Language", "语言"),
    "lang.en": ("English", "English"),
    "lang.zh": ("简体中文", "简体中文"),
    "nav.home": ("Home", "首页"),
    "nav.train": ("Train a model", "训练模型"),
    "nav.compare": ("Compare runs", "对比实验"),
    "error.generic": ("Something went wrong; the rest of the app keeps working.", "出错了；应用的其他部分仍可正常使用。"),
    "error.english_detail": ("Details from the library (in English):", "以下是计算库给出的详细说明（英文）："),
    # -- home -----------------------------------------------------------------------------------------
    "home.title": ("LLM-enhanced recommenders", "大模型增强的推荐系统"),
    "home.intro": ("This app trains ID-only recommenders (popularity, matrix factorisation) and recommenders that "
                   "also read item and user texts with a language model, on MovieLens, a synthetic dataset or your "
                   "own CSV. It then compares their ranking quality with paired significance tests and exports "
                   "tables and figures ready for a thesis or a slide.",
                   "本应用在 MovieLens、合成数据集或你自己的 CSV 上训练仅使用 ID 的推荐模型（流行度、矩阵分解）"
                   "以及借助语言模型读取物品和用户文本的推荐模型。随后用成对显著性检验比较它们的排序质量，"
                   "并导出可直接用于论文和幻灯片的表格与图。"),
    "home.datasets": ("Datasets", "数据集"),
    "home.ds_on_disk": ("ready, in `{path}`", "已就绪，位于 `{path}`"),
    "home.ds_generated": ("ready (generated from a seed, no files)", "已就绪（由随机种子生成，无需文件）"),
    "home.ds_downloadable": ("not on disk. It downloads on first use when online; offline, unzip {url} into `{path}`",
                             "不在本地。联网时首次使用会自动下载；离线时请将 {url} 解压到 `{path}`"),
    "home.ds_incomplete": ("incomplete: files are missing in `{path}`; unzip the dataset there again",
                           "不完整：`{path}` 中缺少文件；请重新解压数据集到该目录"),
    "home.ds_csv": ("your own interactions (and item / user tables), uploaded on the Train page",
                    "你自己的交互数据（以及物品 / 用户表），在训练页上传"),
    "home.backbones": ("Text backbones (offline)", "文本骨干模型（离线可用）"),
    "home.bb_checking": ("Checking which backbones are on this machine…", "正在检查本机可用的骨干模型…"),
    "home.bb_missing": ("not on this machine (copy its Hugging Face cache here to use it)",
                        "本机没有（将其 Hugging Face 缓存复制到本机即可使用）"),
    "home.runs": ("Runs", "实验记录"),
    "home.no_runs": ("No runs yet. Start one on the Train page.", "还没有实验。请在训练页启动一个。"),
    "home.run_problem": ("Run `{run}` cannot be read completely: {error}", "实验 `{run}` 无法完整读取：{error}"),
    "home.compare_selected": ("Compare selected", "对比所选"),
    "home.select_hint": ("Tick rows in the table to compare those runs, or open one run with its link.",
                         "在表格中勾选若干行即可对比这些实验，或点击某一行的链接单独打开。"),
    # -- run table columns ---------------------------------------------------------------------------
    "col.name": ("Name", "名称"), "col.model": ("Model", "模型"), "col.preset": ("Preset", "预设"),
    "col.dataset": ("Dataset", "数据集"), "col.split": ("Split", "划分"), "col.seed": ("Seed", "种子"),
    "col.status": ("Status", "状态"), "col.started": ("Started", "开始时间"), "col.duration": ("Duration", "耗时"),
    "col.open": ("Compare", "对比"), "col.open_text": ("open", "打开"),
    "col.test_ndcg10": ("test NDCG@10", "测试集 NDCG@10"), "col.test_hit10": ("test Hit@10", "测试集 Hit@10"),
    "col.best_epoch": ("Best epoch", "最佳轮次"),
    "col.best_epoch_help": ("Epoch whose weights were restored (early stopping on validation), with its "
                            "training phase for scheme 3 (cached / dynamic).",
                            "恢复其权重的轮次（按验证集早停），方案 3 还注明其训练阶段（缓存 / 动态）。"),
    "home.no_epoch": ("no epoch completed: no test metrics", "未完成任何一轮：无测试指标"),
    "phase_name.cached": ("cached", "缓存"), "phase_name.dynamic": ("dynamic", "动态"),
    "phase_name.train": ("train", "训练"),
    "col.group": ("Model", "模型"), "col.runs": ("Runs", "次数"), "col.metric": ("Metric", "指标"),
    "col.reference": ("Reference", "参照"), "col.value": ("Value", "数值"), "col.diff": ("Difference", "差值"),
    "col.rel_diff": ("Relative", "相对变化"), "col.ci": ("95% CI", "95% 置信区间"), "col.p": ("p (Wilcoxon)", "p 值（Wilcoxon）"),
    "col.verdict": ("Verdict", "结论"),
    # -- run states and phases -----------------------------------------------------------------------
    "state.queued": ("queued", "排队中"), "state.running": ("running", "运行中"), "state.done": ("done", "已完成"),
    "state.failed": ("failed", "失败"), "state.stopped": ("stopped", "已停止"), "state.corrupt": ("unreadable", "无法读取"),
    "phase.starting": ("starting", "启动中"), "phase.loading data": ("loading data", "加载数据"),
    "phase.encoding text": ("encoding text", "编码文本"), "phase.building model": ("building the model", "构建模型"),
    "phase.preparing model": ("preparing the model", "准备模型"), "phase.training": ("training", "训练中"),
    "phase.testing": ("testing", "测试中"),
    # -- names of datasets, splits, models, presets, backbones ---------------------------------------
    "dataset.ml-100k": ("MovieLens 100K", "MovieLens 100K"), "dataset.ml-1m": ("MovieLens 1M", "MovieLens 1M"),
    "dataset.synthetic": ("Synthetic (generated)", "合成数据（自动生成）"), "dataset.csv": ("My CSV files", "我的 CSV 文件"),
    "split.ratio": ("Random 80/10/10 per user", "按用户随机 80/10/10"),
    "split.loo": ("Leave last two out (by time)", "按时间留出最后两条"),
    "split.cold-items": ("Cold items (new-item shelf)", "冷启动物品（新物品）"),
    "model.enhanced": ("LLM-enhanced (GPT2RecommenderEnhanced)", "大模型增强（GPT2RecommenderEnhanced）"),
    "model.gpt2rec": ("GPT2Rec (frozen text + ID)", "GPT2Rec（冻结文本 + ID）"),
    "model.mf": ("Matrix factorisation (ID only)", "矩阵分解（仅 ID）"), "model.pop": ("Popularity", "流行度"),
    "model.ease": ("EASE (closed-form item-item, ID only)", "EASE（闭式解物品-物品模型，仅 ID）"),
    "model.itemknn": ("ItemKNN (item neighbours, ID only)", "ItemKNN（物品近邻，仅 ID）"),
    # -- display names of runs' models (rec_app.runs.model_names: derived from the switches) ---------------
    "mname.pop": ("Popularity", "流行度"), "mname.mf": ("MF (BPR)", "矩阵分解（BPR）"), "mname.ease": ("EASE", "EASE"),
    "mname.itemknn": ("ItemKNN", "ItemKNN"), "mname.gpt2rec": ("GPT2Recommender", "GPT2Recommender"),
    "mname.enhanced": ("LLM-enhanced", "大模型增强"),
    "mname.open": (" (", "（"), "mname.close": (")", "）"), "mname.sep": (", ", "，"), "mname.colon": (": ", "："),
    "mname.preset.scheme1": ("scheme 1", "方案一"), "mname.preset.scheme2": ("scheme 2", "方案二"),
    "mname.preset.scheme3": ("scheme 3", "方案三"), "mname.preset.cold": ("cold-start recipe", "冷启动配方"),
    "mname.preset.warm": ("warm recipe", "热启动配方"), "mname.preset_changed": ("{preset}, changed", "{preset}，已修改"),
    "mname.attention": ("attention fusion", "注意力融合"), "mname.no_attention": ("no attention", "无注意力"),
    "mname.cached": ("cached text", "缓存文本"), "mname.lora": ("LoRA end to end", "LoRA 端到端"),
    "mname.cached_then_lora": ("cached, then LoRA", "先缓存后 LoRA"),
    "mname.fine_tuned": ("top blocks fine-tuned", "微调顶层"), "mname.dynamic_frozen": ("dynamic, frozen", "动态编码，冻结"),
    "mname.contrastive": ("contrastive {weight}", "对比损失 {weight}"),
    "mname.warm_start": ("warm start from MF", "从 MF 热启动"),
    "mname.over_gpt2rec": ("over GPT2Recommender", "叠加于 GPT2Recommender"),
    "mname.warm_start_gpt2rec": ("warm start from GPT2Recommender", "从 GPT2Recommender 热启动"),
    "mname.mf_continued": ("MF continued (BPR)", "MF 继续训练（BPR）"),
    "mname.warm_start_fixed": ("on a fixed MF", "基于固定的 MF"), "mname.no_user_text": ("no user text", "无用户文本"),
    # Short labels (tables, legends): the kind and what tells groups apart; the full name is on hover and in exports.
    "mshort.pop": ("Pop", "流行度"), "mshort.mf": ("MF", "MF"), "mshort.mf_continued": ("MF continued", "MF 继续训练"),
    "mshort.ease": ("EASE", "EASE"), "mshort.itemknn": ("ItemKNN", "ItemKNN"), "mshort.gpt2rec": ("GPT2Rec", "GPT2Rec"),
    "mshort.enhanced": ("Enhanced", "增强"), "mshort.preset.scheme1": ("S1", "方案一"),
    "mshort.preset.scheme2": ("S2", "方案二"), "mshort.preset.scheme3": ("S3", "方案三"),
    "mshort.preset.cold": ("cold", "冷启动"), "mshort.preset.warm": ("warm", "热启动"),
    "mshort.changed": ("*", "*"), "mshort.attention": ("attn", "注意力"), "mshort.no_attention": ("no attn", "无注意力"),
    "mshort.over_gpt2rec": ("over GPT2Rec", "叠加 GPT2Rec"), "mshort.warm": ("warm", "热启动"), "mshort.warm_fixed": ("warm, MF fixed", "热启动，MF 固定"),
    "train.preset": ("Training scheme (one click sets the switches below)", "训练方案（一键设置下方开关）"),
    "preset.scheme1": ("Scheme 1 · fast", "方案一 · 快速"), "preset.scheme2": ("Scheme 2 · end-to-end", "方案二 · 端到端"),
    "preset.scheme3": ("Scheme 3 · mixed", "方案三 · 混合"),
    "preset.scheme1_help": ("Frozen cached text features, simple fusion, no contrastive loss: minutes on a CPU.",
                            "冻结并缓存文本特征，简单融合，无对比损失：CPU 上几分钟即可。"),
    "preset.scheme2_help": ("LoRA adapters on the top backbone blocks trained end to end, attention fusion, "
                            "contrastive loss: the strongest and the slowest.",
                            "在骨干模型顶层用 LoRA 端到端训练，注意力融合，对比损失：效果最好，也最慢。"),
    "preset.scheme3_help": ("First half of the epochs on cached features, then LoRA end to end.",
                            "前一半轮次使用缓存特征，之后用 LoRA 端到端训练。"),
    "preset.cold": ("Cold-start recipe", "冷启动配方"), "preset.warm": ("Warm recipe", "热启动配方"),
    "preset.cold_help": ("The measured recipe for new items (cold-items split): GPT2Recommender's score plus gated "
                         "cross-attention, new items' ID vectors mapped from their text; its learning rate and budget "
                         "included. Numbers: bench/README.md.",
                         "为新物品（冷启动物品划分）实测的配方：GPT2Recommender 的得分加上门控交叉注意力，新物品的 ID "
                         "向量由其文本映射而来；包括其学习率和训练预算。数据见 bench/README.md。"),
    "preset.warm_help": ("The measured recipe for the ratio split: scheme 1 started from your newest matching MF run "
                         "(train MF first), text gate 0; its learning rate and budget included.",
                         "比例划分的实测配方：从最新的匹配 MF 实验热启动的方案一（请先训练 MF），文本门控初值为 0；"
                         "包括其学习率和训练预算。"),
    "preset.none_help": ("No scheme chosen: the switches below are used as they are.", "未选择方案：按下方开关的当前值训练。"),
    "preset.modified": ("Changed by hand from {preset}: the runs are recorded as a custom configuration.",
                        "已在 {preset} 的基础上手动修改：实验将记录为自定义配置。"),
    "backbone.minilm": ("MiniLM (bundled, pretrained)", "MiniLM（内置，预训练）"),
    "backbone.tiny-gpt2": ("tiny-gpt2 (random weights: tests only)", "tiny-gpt2（随机权重：仅用于测试）"),
    "backbone.gpt2": ("GPT-2 (local cache)", "GPT-2（本地缓存）"), "backbone.distilgpt2": ("DistilGPT-2 (local cache)", "DistilGPT-2（本地缓存）"),
    "backbone.minilm_long": ("all-MiniLM-L6-v2, bundled with the app, pretrained", "all-MiniLM-L6-v2，随应用安装，预训练"),
    "backbone.tiny-gpt2_long": ("a tiny GPT-2 with random weights, built locally: no semantics, for tests and smoke runs only",
                                "本地构建的随机权重微型 GPT-2：没有语义，仅用于测试和冒烟运行"),
    "backbone.gpt2_long": ("GPT-2 from the local Hugging Face cache, pretrained", "GPT-2，来自本地 Hugging Face 缓存，预训练"),
    "backbone.distilgpt2_long": ("DistilGPT-2 from the local Hugging Face cache, pretrained", "DistilGPT-2，来自本地 Hugging Face 缓存，预训练"),
    # -- train page ----------------------------------------------------------------------------------
    "train.title": ("Train", "训练"),
    "train.intro": ("Runs train in background processes that write to the run store: they keep going when you "
                    "switch pages or close the tab. Several seeds start several runs; a queue runs them in turn.",
                    "训练在后台进程中进行并写入实验存储：切换页面或关闭标签页都不会中断。"
                    "多个种子会启动多次实验，由队列依次执行。"),
    "train.loading_library": ("Loading the model library (only the first time after the app starts)…",
                              "正在加载模型库（仅在应用启动后的第一次）…"),
    "train.switches": ("Switches of the enhanced model", "增强模型的开关"),
    "train.pop_note": ("Popularity has no hyperparameters: it ranks items by their training count.",
                       "流行度模型没有超参数：按训练集中的交互次数排序。"),
    "train.ease_note": ("EASE (Steck, 2019): item-to-item weights solved in closed form from the training matrix; "
                        "a strong simple baseline that fits in seconds. Epochs, learning rate, batch size and "
                        "patience do not apply.",
                        "EASE（Steck，2019）：由训练矩阵闭式求解物品到物品的权重；几秒即可拟合的强基线。"
                        "训练轮数、学习率、批大小和早停耐心不适用。"),
    "train.itemknn_note": ("ItemKNN: recommends the items most similar (cosine over shared users, with shrinkage) "
                           "to those the user already has; sparse, no training epochs. Epochs, learning rate, "
                           "batch size and patience do not apply.",
                           "ItemKNN：推荐与用户已有物品最相似（基于共同用户的余弦相似度，带收缩）的物品；"
                           "稀疏计算，无需训练轮次。训练轮数、学习率、批大小和早停耐心不适用。"),
    "field.grid_help": ("Comma-separated values. Each value (each combination, for two lists) is fitted and "
                        "the one best on the validation split is kept; a single value: no search.",
                        "用逗号分隔。每个取值（两个列表时为每种组合）都会拟合一次，保留验证集上最好的；只填一个值则不搜索。"),
    "field.l2_grid": ("L2 weights to try", "待选 L2 正则权重"),
    "field.k_grid": ("Neighbours per item to try", "待选每个物品的近邻数"),
    "field.shrink_grid": ("Shrinkage values to try", "待选收缩项"),
    "train.confirm_long": ("I know this may take longer than {limit} (or has no estimate yet) and want to start it",
                           "我知道这可能超过 {limit}（或尚无估计），仍要启动"),
    "train.estimate": ("Estimate duration", "估计耗时"), "train.launch": ("Launch", "启动"),
    "train.invalid": ("These settings cannot be used:", "这些设置无法使用："),
    "train.needs_confirm": ("This is a long run. Tick the confirmation box above and click Launch again to start it.",
                            "这是一次长时间运行。请勾选上方的确认框后再次点击“启动”。"),
    "train.needs_confirm_unknown": ("There is no estimate for these settings yet. Click Estimate to measure them, or "
                                    "tick the confirmation box to start anyway.",
                                    "这些设置还没有耗时估计。请点击“估计耗时”进行测量，或勾选确认框直接启动。"),
    "train.launched_measuring": ("Launched while these settings are still measured: the estimate follows below, and "
                                 "each run's own pace in the live panel.",
                                 "已在测量这些设置的同时启动：估计稍后显示在下方，实时面板中显示每次实验自己的进度。"),
    "train.launched": ("{n} run(s) launched. Follow them below; they keep running if you leave this page.",
                       "已启动 {n} 次实验。可在下方查看进度；离开本页也会继续运行。"),
    "train.dataset_downloadable": ("{name} is not on disk: the run will try to download it and fail when offline. "
                                   "See the home page for the folder to put it in.",
                                   "{name} 不在本地：运行时会尝试下载，离线时将失败。放置目录见首页。"),
    "train.dataset_incomplete": ("{name} is incomplete: files are missing in `{path}`, so the run will fail; unzip "
                                 "the dataset there again.", "{name} 不完整：`{path}` 中缺少文件，运行将失败；请重新解压数据集到该目录。"),
    "train.warm_sources": ("Warm start from the MF run (seed → run): {runs}.", "热启动所用的 MF 运行（种子 → 运行）：{runs}。"),
    "field.dataset": ("Dataset", "数据集"), "field.split": ("Split", "数据划分"), "field.model": ("Model", "模型"),
    "field.backbone": ("Text backbone", "文本骨干模型"), "field.max_length": ("Tokens per text", "每条文本的词元数"),
    "field.warm_start": ("Warm start from MF", "从 MF 热启动"),
    "field.warm_start_help": ("Start the ID embeddings and item bias from a finished MF run of the same dataset, "
                              "split and seed (train it first; Estimate shows which one each seed uses). `auto` "
                              "takes only MF runs with this model's embedding size, L2 and item bias, trained at "
                              "least 10 epochs, with an intact checkpoint, and refuses when such runs were trained "
                              "with different settings. With text gate 0 the model starts exactly as that MF; with "
                              "another gate (0.1 by default) the text part changes the scores from the start, so it "
                              "starts elsewhere and can validate below that MF. Judge it against the equal-budget "
                              "control (MF continued), not only against MF.",
                              "用同一数据集、划分和种子下已完成的 MF 运行初始化 ID 嵌入和物品偏置（需先训练该 MF；点击“估算”可看到每个种子"
                              "使用哪个运行）。`auto` 只选取嵌入维度、L2 和物品偏置与本模型相同、至少训练 10 轮且检查点完好的 MF 运行；"
                              "若这些运行的训练设置不同则拒绝。文本门控为 0 时模型起点与该 MF 完全相同；其他门控（默认 0.1）从一开始就让"
                              "文本部分改变得分，起点不同，验证集上可能低于该 MF。请与等预算对照（MF 继续训练）比较，而不只与 MF 比较。"),
    "field.with_control": ("Also train the equal-budget control (MF continued)", "同时训练等预算对照（MF 继续训练）"),
    "field.with_control_help": ("With a warm start: for each seed, also queue MF trained on from the same MF run with "
                                "this run's epochs, learning rate, patience and batch size. Training longer alone "
                                "improves MF (+1.8% NDCG@10 on ML-100K ratio): Compare and the report judge the "
                                "warm-started model against this control, so that gain is not credited to the text.",
                                "热启动时：每个种子另外排队一个从同一 MF 运行继续训练的 MF，轮数、学习率、早停耐心值和批大小与本运行相同。"
                                "仅仅多训练就能提升 MF（ML-100K ratio 上 NDCG@10 +1.8%）：对比页和报告以该对照评判热启动模型，"
                                "这部分提升不会记到文本头上。"),
    "field.freeze_mf": ("Keep the MF part fixed", "固定 MF 部分"),
    "field.freeze_mf_needs_warm": ("Only with a warm start from MF: turn that on first.", "仅在从 MF 热启动时可用：请先打开热启动。"),
    "field.freeze_mf_help": ("With a warm start: the MF run's embeddings and item bias stay as they are and the "
                             "text part learns what MF misses. The run validates its starting weights too and keeps "
                             "them unless an epoch validates better: with text gate 0 those weights score as that MF, "
                             "so on validation it never falls below it; with another gate they already include the "
                             "text part and may validate below it.",
                             "热启动时：MF 运行的嵌入和物品偏置保持不变，文本部分学习 MF 遗漏的信号。运行也会在验证集上"
                             "评估起始权重，除非某轮验证更好否则保留它们：文本门控为 0 时起始权重的得分与该 MF 相同，因此在验证集上"
                             "不会低于它；其他门控下起始权重已包含文本部分，验证结果可能低于该 MF。"),
    "field.gate_init": ("Text gate (initial)", "文本门控（初值）"),
    "field.gate_init_help": ("Initial weight of the text part of the score (score = MF part + gate x text part); "
                             "0 starts as plain MF.", "得分中文本部分的初始权重（得分 = MF 部分 + 门控 × 文本部分）；"
                             "0 表示从纯 MF 开始。"),
    "field.max_length_help": ("Longer texts are cut; encoding time grows with it.", "超出部分会被截断；编码时间随之增长。"),
    "field.embed_dim": ("Embedding size", "嵌入维度"), "field.epochs": ("Epochs", "训练轮数"),
    "field.lr": ("Learning rate", "学习率"), "field.batch_size": ("Batch size", "批大小"),
    "field.patience": ("Early-stopping patience", "早停耐心值"),
    "field.patience_help": ("Stop after this many epochs without a better validation NDCG@10 (0: never).",
                            "验证集 NDCG@10 连续这么多轮没有提升就停止（0 表示从不早停）。"),
    "field.seeds": ("Seeds", "随机种子"), "field.seed": ("seed", "种子"),
    "field.seeds_help": ("One run per seed, e.g. 0 or 0, 1, 2 or 0-4. The seed fixes the split, the initialisation and the sampling.",
                         "每个种子一次实验，例如 0、0, 1, 2 或 0-4。种子决定数据划分、初始化和采样。"),
    "field.processes": ("Processes", "进程数"),
    "field.processes_help": ("Local processes that train each run together (torchrun; gloo on CPU, one GPU each on "
                             "CUDA). Every process takes a batch of the batch size per step, so a step's effective "
                             "batch is batch size × processes: 2 processes with batch 1024 train like 1 with 2048. "
                             "The queue counts such a run as this many of its places.",
                             "在本机共同训练每次实验的进程数（torchrun；CPU 上用 gloo，CUDA 上每个进程一块 GPU）。"
                             "每个进程每步取一个批大小的样本，因此每步的有效批大小为 批大小 × 进程数："
                             "2 个进程、批大小 1024 与 1 个进程、批大小 2048 的训练相同。"
                             "队列把这样的实验按进程数计为占用的名额。"),
    "field.label": ("Name (optional)", "名称（可选）"),
    "field.label_help": ("Shown in tables and legends instead of the generated name.", "在表格和图例中代替自动生成的名称。"),
    "field.use_cache": ("Cached text features", "缓存文本特征"),
    "field.use_cache_help": ("On: frozen features from the text cache (fast). Off: the top backbone blocks run with gradients.",
                             "开启：使用缓存的冻结特征（快）。关闭：骨干模型顶层带梯度运行。"),
    "field.use_attention": ("Cross-attention fusion", "交叉注意力融合"),
    "field.use_attention_help": ("On: the ID embedding attends over the text tokens. Off: ID + MLP of the pooled text.",
                                 "开启：ID 嵌入对文本词元做注意力。关闭：ID 加上池化文本的 MLP。"),
    "field.freeze_gpt2": ("Freeze backbone", "冻结骨干模型"),
    "field.freeze_gpt2_help": ("Keep the backbone's own weights fixed (LoRA freezes them anyway).", "固定骨干模型自身权重（LoRA 本身也会冻结它们）。"),
    "field.use_peft": ("LoRA adapters", "LoRA 适配器"),
    "field.use_peft_help": ("Train low-rank adapters on the top blocks; needs cached features off.", "在顶层训练低秩适配器；需要关闭缓存特征。"),
    "field.contrastive_weight": ("Contrastive weight", "对比损失权重"),
    "field.n_heads": ("Attention heads", "注意力头数"),
    "field.n_heads_help": ("Must divide the embedding size.", "必须能整除嵌入维度。"),
    "field.lora_rank": ("LoRA rank", "LoRA 秩"), "field.dynamic_layers": ("Dynamic layers", "动态层数"),
    "field.dynamic_layers_help": ("Top backbone blocks run with gradients when features are not cached.",
                                  "不使用缓存特征时，带梯度运行的骨干顶层块数。"),
    "field.cached_epochs": ("Cached warm-up epochs", "缓存预热轮数"),
    "field.cached_epochs_help": ("Epochs on cached features before switching to end-to-end (-1: half). Needs cached features off.",
                                 "切换到端到端之前使用缓存特征的轮数（-1 表示一半）。需要关闭缓存特征。"),
    "field.syn_users": ("Synthetic users", "合成用户数"), "field.syn_items": ("Synthetic items", "合成物品数"),
    # -- CSV upload ----------------------------------------------------------------------------------
    "csv.title": ("Your CSV files", "你的 CSV 文件"),
    "csv.help": ("UTF-8 files. The interactions file needs a user and an item column; ratings and times are optional. "
                 "Item and user tables add the texts the language model reads.",
                 "文件须为 UTF-8 编码。交互文件需要用户列和物品列，评分和时间可选。物品表和用户表提供语言模型读取的文本。"),
    "csv.sep": ("Separator", "分隔符"), "csv.sep_comma": ("comma ,", "逗号 ,"), "csv.sep_semicolon": ("semicolon ;", "分号 ;"),
    "csv.sep_tab": ("tab", "制表符"), "csv.sep_pipe": ("pipe |", "竖线 |"),
    "csv.interactions": ("Interactions (required)", "交互数据（必需）"), "csv.items": ("Item table (optional)", "物品表（可选）"),
    "csv.users": ("User table (optional)", "用户表（可选）"),
    "csv.need_interactions": ("Upload an interactions file to map its columns.", "请上传交互文件以映射其列。"),
    "csv.empty": ("{name} is empty: it has no header line.", "{name} 是空文件：没有表头行。"),
    "csv.user_col": ("User column", "用户列"), "csv.item_col": ("Item column", "物品列"),
    "csv.rating_col": ("Rating column", "评分列"), "csv.time_col": ("Time column", "时间列"),
    "csv.item_id_col": ("Item id column (item table)", "物品 ID 列（物品表）"),
    "csv.user_id_col": ("User id column (user table)", "用户 ID 列（用户表）"),
    "csv.item_template": ("Item text template", "物品文本模板"), "csv.user_template": ("User text template", "用户文本模板"),
    "csv.template_help": ("Columns in braces, e.g. {{title}}. Empty: every column as 'name: value'. Columns: {columns}",
                          "用花括号引用列，例如 {{title}}。留空：每列写成“列名: 值”。可用列：{columns}"),
    "csv.same_columns": ("The user and item columns must be different.", "用户列和物品列不能相同。"),
    "csv.validate": ("Check the files", "检查文件"),
    "csv.validate_first": ("Check the CSV files first (button above): nothing is used before they pass.",
                           "请先检查 CSV 文件（上方按钮）：通过检查之前不会使用它们。"),
    "csv.invalid": ("The files cannot be used:", "这些文件无法使用："),
    "csv.valid": ("Files OK: {users} users, {items} items, {interactions} interactions.",
                  "文件检查通过：{users} 个用户，{items} 个物品，{interactions} 条交互。"),
    "csv.binary_kind": ("{name} is not a CSV text file: it is a {kind} file. Save the table as CSV (UTF-8) and "
                        "upload that file.", "{name} 不是 CSV 文本文件：它是 {kind} 文件。请将表格另存为 CSV（UTF-8）后上传。"),
    "csv.binary": ("{name} is not a CSV text file: it holds binary data. Save the table as CSV (UTF-8) and upload "
                   "that file.", "{name} 不是 CSV 文本文件：其中包含二进制数据。请将表格另存为 CSV（UTF-8）后上传。"),
    "csv.utf16": ("{name} is UTF-16 text, not UTF-8: save it as \"CSV UTF-8\" and upload it again.",
                  "{name} 是 UTF-16 文本而不是 UTF-8：请另存为“CSV UTF-8”后重新上传。"),
    "csv.not_utf8_header": ("{name} is not UTF-8 text: byte {byte} on line 1 cannot be decoded. Save it as CSV "
                            "UTF-8 and upload it again.", "{name} 不是 UTF-8 文本：第 1 行的字节 {byte} 无法解码。"
                            "请另存为 CSV UTF-8 后重新上传。"),
    "csv.unreadable": ("{name} cannot be read as CSV on line 1 ({error}).", "{name} 的第 1 行无法按 CSV 读取（{error}）。"),
    "csv.feasible": ("With the split “{split}”: {test_users} of {users} users have a test item (they are "
                     "evaluated), {valid_users} have a validation item, and {train_items} of {items} items occur "
                     "in training.", "按“{split}”划分：{users} 个用户中有 {test_users} 个有测试物品（参与评估），"
                     "{valid_users} 个有验证物品；{items} 个物品中有 {train_items} 个出现在训练集中。"),
    "csv.infeasible": ("These files cannot be split with “{split}”:", "这些文件无法按“{split}”划分："),
    "csv.no_valid": ("No user has a validation item: early stopping and the choice of the best epoch have "
                     "nothing to go by. Add interactions or choose another split.",
                     "没有用户有验证物品：早停和最佳轮次的选择将无所依据。请补充交互数据或换一种划分。"),
    # -- duration estimate ---------------------------------------------------------------------------
    "estimate.one_run": ("Estimated duration of one run: about {total} ({parts}).", "单次实验预计耗时约 {total}（{parts}）。"),
    "estimate.all_runs": ("All {n} runs: about {total} with the queue.", "全部 {n} 次实验（经队列）：约 {total}。"),
    "estimate.part_startup": ("start-up", "启动"), "estimate.part_encoding": ("text encoding", "文本编码"),
    "estimate.part_training": ("training", "训练"), "estimate.part_evaluation": ("evaluation", "评估"),
    "estimate.basis_runs": ("Based on the measured times of {n} finished run(s) with the same settings on this machine.",
                            "依据本机上 {n} 次相同设置的已完成实验的实测耗时。"),
    "estimate.basis_calibration": ("Based on a measurement of these settings on this dataset on this machine ({when}): "
                                   "real training steps, a validation and a test pass.",
                                   "依据本机上对这些设置在本数据集上的实测（{when}）：真实的训练步、一次验证和一次测试。"),
    "estimate.scaled": ("Measured on another dataset and scaled to this one: rough.", "在另一个数据集上测得并按规模换算：仅供粗略参考。"),
    "estimate.busy": ("Priced for the load there is now: other work shares this machine's cores, so a run goes about "
                      "{factor}× slower than on an idle machine (a load that changes during the run changes it).",
                      "按当前负载估算：其他任务正在共用本机的 CPU 核，实验约比空闲时慢 {factor} 倍"
                      "（运行期间负载变化，耗时也会随之变化）。"),
    "estimate.part_loading": ("loading", "加载"), "estimate.part_testing": ("testing", "测试"),
    "estimate.early_stop": ("At most: early stopping can end a run sooner.", "这是上限：早停可能让实验更早结束。"),
    "estimate.processes": ("With {n} processes each run takes {n} places in the queue. Its own time is priced from "
                           "one-process measurements (fewer, larger steps sharing this machine's cores): rough.",
                           "使用 {n} 个进程时，每次实验在队列中占 {n} 个名额。其自身耗时按单进程的实测估算"
                           "（步数更少、每步更大，并共享本机的 CPU 核）：仅供粗略参考。"),
    "estimate.all_done": ("All {n} runs done in about {end} ({parallel} at a time).",
                          "全部 {n} 次实验约 {end} 后完成（最多同时运行 {parallel} 次）。"),
    "estimate.queue": ("{ahead} run(s) ahead in the queue: these start in about {start} and are all done in about {end}.",
                       "队列中前面还有 {ahead} 次实验：这些实验约 {start} 后开始，约 {end} 后全部完成。"),
    "estimate.queue_unknown": ("{k} of the runs ahead have no estimate: their time is not included.",
                               "前面的实验中有 {k} 次没有耗时估计：其时间未计入。"),
    "estimate.cache_warm": ("The text features are probably cached already.", "文本特征很可能已在缓存中。"),
    "estimate.cache_cold": ("The texts are encoded first (then cached for later runs).", "需要先编码文本（之后的实验会使用缓存）。"),
    "estimate.measuring": ("Measuring these settings on this dataset in the background: about {expected} here (as "
                           "long as earlier measurements took). The estimate appears here when it is done; Launch "
                           "does not wait for it.",
                           "正在后台用本数据集实测这些设置：在本机约需 {expected}（按以往测量的耗时）。完成后估计会显示在这里；"
                           "“启动”无需等待。"),
    "estimate.measuring_for": ("measuring for {spent}", "已测量 {spent}"),
    "estimate.rough": ("Rough estimate until then: about {total} (from this project's benchmarks on a 2-core machine, "
                       "not yet measured here; often off by 2x). Launch need not wait.",
                       "在测量完成前的粗略估计：约 {total}（来自本项目在双核机器上的基准测试，尚未在本机测量；误差常达 2 倍）。无需等待即可启动。"),
    "estimate.unknown": ("No estimate yet: nothing with these settings has run on this machine. Click Estimate to "
                         "measure them (about {expected} here).", "暂无估计：本机尚未运行过这些设置。点击“估计耗时”进行测量（本机约需 {expected}）。"),
    "estimate.measure_failed": ("Measuring these settings failed: {error}", "测量这些设置失败：{error}"),
    "estimate.size_unknown": ("The dataset's size is unknown, so there is no estimate.", "数据集规模未知，无法估计耗时。"),
    # -- live view -----------------------------------------------------------------------------------
    "live.title": ("Live and recent runs", "进行中与最近完成的实验"), "live.none": ("Nothing is running.", "当前没有实验在运行。"),
    "live.summary": ("{running} running, {queued} queued; at most {parallel} at a time.", "{running} 个运行中，{queued} 个排队中；最多同时运行 {parallel} 个。"),
    "live.queued": ("waiting in the queue", "排队等待中"), "live.epoch": ("epoch {k} of {n}", "第 {k} / {n} 轮"),
    "live.stop": ("Stop", "停止"),
    "live.stop_help": ("Stops after the current step; the best weights so far are kept and tested.", "在当前步之后停止；保留并测试目前最好的权重。"),
    "live.stop_requested": ("Stopping {name}…", "正在停止 {name}…"),
    "live.stopping": ("Stop requested: finishing the current step, then testing the best weights…",
                      "已请求停止：完成当前步后测试最佳权重…"),
    # How a run ended (rec_app.train.live_view.completion_sentence): one true sentence per completion state.
    "live.end_queued": ("Stopped while waiting in the queue: it never trained, so it has no weights and no test metrics.",
                        "在排队时被停止：从未训练，因此没有权重，也没有测试指标。"),
    "live.end_no_epoch": ("Stopped before its first epoch was complete: no weights were kept and there are no test "
                          "metrics.", "在第一轮完成之前被停止：没有保存权重，也没有测试指标。"),
    "live.end_stopped": ("Stopped on request after {epochs} epoch(s); the weights of epoch {best}, the best on "
                         "validation, were tested.", "已按请求在 {epochs} 轮后停止；已测试验证集上最佳的第 {best} 轮权重。"),
    "live.end_stopped_last": ("Stopped on request after {epochs} epoch(s); no epoch improved validation, so the last "
                              "weights were tested.", "已按请求在 {epochs} 轮后停止；没有一轮提升验证集表现，因此测试的是最后的权重。"),
    "live.end_signal": ("Stopped by {signal} after {epochs} epoch(s); the weights of epoch {best}, the best on "
                        "validation, were tested.", "在 {epochs} 轮后被 {signal} 停止；已测试验证集上最佳的第 {best} 轮权重。"),
    "live.end_signal_last": ("Stopped by {signal} after {epochs} epoch(s); no epoch improved validation, so the last "
                             "weights were tested.", "在 {epochs} 轮后被 {signal} 停止；没有一轮提升验证集表现，因此测试的是最后的权重。"),
    "live.end_early": ("Early-stopped after {epochs} epochs (validation stopped improving); the weights of epoch "
                       "{best} were tested.", "验证集不再提升，在 {epochs} 轮后提前停止；已测试第 {best} 轮的权重。"),
    "live.end_max": ("Trained all {epochs} epochs; the weights of epoch {best}, the best on validation, were tested.",
                     "已完成全部 {epochs} 轮；已测试验证集上最佳的第 {best} 轮权重。"),
    "live.end_fitted": ("Fitted in one pass (no training epochs) and tested.", "一次拟合完成（无训练轮次）并已测试。"),
    "live.failed": ("The run failed:", "实验失败："), "live.no_error_text": ("no error text was recorded", "没有记录错误信息"),
    "live.deleted": ("Run `{run}` was deleted while shown here.", "实验 `{run}` 在显示期间被删除。"),
    "live.queued_at": ("waiting in the queue (place {k})", "排队等待中（第 {k} 位）"),
    "live.step": ("step {s} of {n}", "第 {s} / {n} 步"),
    "live.rate_steps": ("{rate} steps/s", "每秒 {rate} 步"), "live.rate_seconds": ("{seconds} s per step", "每步 {seconds} 秒"),
    "live.epoch_eta": ("about {eta} left in this epoch", "本轮约剩 {eta}"),
    "live.epoch_done": ("{k} of {n} epochs done", "已完成 {k} / {n} 轮"),
    "live.texts": ("{phase}: {done} of {n} texts", "{phase}：{done} / {n} 条文本"),
    "live.rate_texts": ("{rate} texts/s", "每秒 {rate} 条"), "live.rate_text_seconds": ("{seconds} s per text", "每条 {seconds} 秒"),
    "live.encode_eta": ("about {eta} left", "约剩 {eta}"),
    "live.phase_left": ("{phase}: {spent} so far, about {left} left (estimated)", "{phase}：已用 {spent}，预计还需约 {left}"),
    "live.phase_over": ("{phase}: {spent} so far, longer than estimated", "{phase}：已用 {spent}，超出预计"),
    "live.phase_spent": ("{phase}: {spent} so far", "{phase}：已用 {spent}"),
    "live.stop_run": ("Stop seed {seed}", "停止种子 {seed}"),
    "live.processes": ("{n} processes", "{n} 个进程"),
    "live.still_queued": ("{queued} of the {n} run(s) launched here are waiting in the queue (at most {parallel} "
                          "at a time); each starts when a place is free.",
                          "本页启动的 {n} 次实验中有 {queued} 次在排队（最多同时运行 {parallel} 次）；有空位时依次开始。"),
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


STRICT_ENV = "REC_APP_STRICT_STRINGS"


class MissingString(KeyError):
    """Strict mode: `t` was asked for a key no table defines (and given no default)."""


class StringFormatError(ValueError):
    """Strict mode: a string could not be formatted with the values `t` was given."""


def strict() -> bool:
    """Whether `t` raises on a missing key or a format error ($REC_APP_STRICT_STRINGS set and not 0)."""
    return os.environ.get(STRICT_ENV, "").strip() not in ("", "0")


def t(key: str, lang: str = "en", default: str | None = None, **fmt: object) -> str:
    """The string `key` in `lang`, formatted with `fmt`; see the module docstring for misses."""
    pair = STRINGS.get(key)
    if pair is not None:
        text = pair[1] if lang == "zh" else pair[0]
    elif default is not None:
        text = default
    elif strict():
        raise MissingString(f"no string {key!r} in rec_app/i18n*.py")
    else:
        return f"[{key}]"
    try:
        return text.format(**fmt)  # also without fmt: `{{` means a literal brace everywhere
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        if strict():
            raise StringFormatError(f"string {key!r} ({lang}) cannot be formatted with "
                                    f"{sorted(fmt) or 'no values'}: {type(exc).__name__}: {exc}") from exc
        return text


def metric_label(metric: str, lang: str = "en") -> str:
    """`ndcg@10` -> `NDCG@10` (en) / `NDCG@10` (zh); `hit@5` -> `Hit@5` / `命中率@5`."""
    base, _, k = metric.partition("@")
    name = t(f"metric.{base}", lang, default=base)
    return f"{name}@{k}" if k else name


def part_metric_label(metric: str, part: str, lang: str = "en") -> str:
    """`ndcg@10` on `test` -> `test NDCG@10` / `测试集 NDCG@10` (`valid`: validation): metric
    tables and axes say which split their numbers come from."""
    return t(f"metric.on_{part}", lang, metric=metric_label(metric, lang))


def segment_label(segment: str, lang: str = "en") -> str:
    """Readable name of an item or user segment (`tail`, `low`, ...)."""
    return t(f"segment.{segment}", lang, default=segment)


def format_duration(seconds: float | None, lang: str = "en") -> str:
    """`45 s`, `4 min 10 s`, `1 h 20 min` (or in Chinese); `–` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    s = max(0, int(round(seconds)))
    if s < 60:
        return t("duration.s", lang, s=s)
    if s < 600:
        if s % 60 == 0:
            return t("duration.min", lang, m=s // 60)
        return t("duration.min_s", lang, m=s // 60, s=s % 60)
    if s < 3600:
        return t("duration.min", lang, m=int(round(s / 60)))
    return t("duration.h_min", lang, h=s // 3600, m=(s % 3600) // 60)


def _merge(*tables: dict[str, tuple[str, str]]) -> None:
    """Add the other tables (same format) to STRINGS; a key defined twice is an error."""
    for table in tables:
        for key, pair in table.items():
            if key in STRINGS:
                raise ValueError(f"string key {key!r} is defined twice in rec_app/i18n*.py")
            STRINGS[key] = pair


# The analysis pages and the defence report keep their strings in rec_app/i18n/analysis.py and
# rec_app/i18n/report.py; merged so `t` finds them.
_merge(_ANALYSIS_STRINGS, _REPORT_STRINGS)
