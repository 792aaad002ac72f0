"""UI strings of the app frame, navigation and language, the home page, the runs table, run states,
names of datasets, splits, models, presets and backbones, and runs' model display names.

One of the tables `rec_app.i18n` merges (key -> (English, 简体中文)); pure data, no imports.
"""
from __future__ import annotations

__all__ = ["STRINGS"]

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
}
