"""The Compare page's logic: runs grouped by setting over seeds and compared seed-aware to a
reference (`table`), the tables and verdicts in words (`text`), CSV / LaTeX exports (`export`)
and warm-started models against their equal-budget control (`equal_budget`)."""
