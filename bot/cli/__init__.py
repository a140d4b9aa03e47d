"""The nvqbot command line: the Typer app, its command groups, and the entry point."""

import typer

from bot.cli import banks, people, records, running

app = typer.Typer(help="nvqbot: evidence for NVQ units, gathered in Telegram.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
assessor_app = typer.Typer(help="Assessors.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(assessor_app, name="assessor")
banks_app = typer.Typer(help="The question banks: units, criteria, questions and the cross-unit mapping.", no_args_is_help=True)
app.add_typer(banks_app, name="banks")
audit_app = typer.Typer(help="The audit trail of judgments, decisions and exports.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

# Registered in the order `nvqbot --help` lists them.
db_app.command("upgrade")(running.db_upgrade)
banks_app.command("check")(banks.banks_check)
banks_app.command("list")(banks.banks_list)
assessor_app.command("add")(people.assessor_add)
app.command()(people.invite)
app.command()(people.deadline)
app.command()(people.timezone)
app.command()(people.candidates)
app.command()(records.export)
app.command()(records.verify)
audit_app.command("verify")(records.audit_verify)
app.command()(running.run)
app.command()(running.demo)


def main() -> None:
    app(prog_name="nvqbot")
