"""The defence report: one self-contained HTML file of a comparison, and a ZIP of its parts
(`build`). Everything public is importable from `rec_app.report`."""

from rec_app.report.build import SECTIONS, Report, ReportFigure, ReportInputs, build_report, report_zip

__all__ = ["SECTIONS", "Report", "ReportFigure", "ReportInputs", "build_report", "report_zip"]
