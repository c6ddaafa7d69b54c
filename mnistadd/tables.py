"""Markdown tables for the report, the model cards and the app, through tabulate."""

from tabulate import tabulate


def markdown_table(header, rows):
    """A GitHub-flavoured Markdown table; cells are written as given (format numbers before)."""
    return tabulate([[str(cell) for cell in row] for row in rows], headers=list(header), tablefmt="github",
                    disable_numparse=True)


def percent(fraction, digits=2):
    return f"{100 * fraction:.{digits}f} %"
