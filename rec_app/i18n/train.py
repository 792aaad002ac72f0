"""UI strings of the Train page: its form, the CSV upload, the duration estimate and the live panel.

One of the tables `rec_app.i18n` merges (key -> (English, 简体中文)); pure data, no imports.
"""
from __future__ import annotations

__all__ = ["STRINGS"]

STRINGS: dict[str, tuple[str, str]] = {
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
}
