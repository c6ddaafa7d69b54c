"""Markdown tables for the report, the model cards and the app, through tabulate."""

from tabulate import tabulate


def markdown_table(header, rows):
    """A GitHub-flavoured Markdown table; cells are written as given (format numbers before)."""
    return tabulate([[str(cell) for cell in row] for row in rows], headers=list(header), tablefmt="github",
                    disable_numparse=True)


def percent(fraction, digits=2):
    """A fraction as a percentage; "not measured" for None."""
    return "not measured" if fraction is None else f"{100 * fraction:.{digits}f} %"


def percent_with_error(fraction, count):
    """A fraction measured on `count` items, with its binomial standard error."""
    return f"{100 * fraction:.2f} ± {100 * (fraction * (1 - fraction) / count) ** 0.5:.2f} %"
