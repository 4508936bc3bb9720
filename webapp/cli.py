"""Operator commands: `flask --app webapp user create|set-password|sign-out|disable …`, `flask --app webapp seed-demo`."""

import click
from flask import Flask

from webapp.extensions import db


def register_cli(app: Flask) -> None:
    from webapp.photos.cli import photos_cli
    from webapp.results.points.cli import points_cli

    app.cli.add_command(photos_cli)
    from webapp.results.warnings.cli import warnings_cli

    app.cli.add_command(warnings_cli)
    app.cli.add_command(points_cli)
    from webapp.jobs.cli import jobs_cli, outbox_cli

    app.cli.add_command(jobs_cli)
    app.cli.add_command(outbox_cli)

    @app.cli.group("user")
    def user_group():
        """Manage user accounts."""

    @user_group.command("create")
    @click.argument("username")
    @click.option("--role", required=True, help="admin, manager, supervisor, dept_head or staff")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--department", "department_code", default=None, help="department code")
    @click.option("--name", "display_name", default=None, help="display name")
    def user_create(username, role, password, department_code, display_name):
        """Create a user account."""
        from webapp.auth.operations import AccountError, create_user

        try:
            user = create_user(username, role, password, department_code, display_name)
        except AccountError as e:
            db.session.rollback()
            raise click.ClickException(str(e)) from None
        db.session.commit()
        click.echo(f"created {user.username} ({user.role})")

    def _user(username):
        from sqlalchemy import select

        from webapp.auth.models import User

        user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        return user

    @user_group.command("set-password")
    @click.argument("username")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def user_set_password(username, password):
        """Set a user's password; every session and token of the user ends."""
        from webapp.auth.operations import AccountError, change_password

        try:
            change_password(_user(username), password)
        except AccountError as e:
            db.session.rollback()
            raise click.ClickException(str(e)) from None
        db.session.commit()
        click.echo(f"password changed for {username}; signed out everywhere")

    @user_group.command("sign-out")
    @click.argument("username")
    def user_sign_out(username):
        """End every session and revoke every token of a user (a lost phone, a suspected theft)."""
        from webapp.auth.operations import end_sessions

        ended = end_sessions(_user(username))
        db.session.commit()
        click.echo(f"{ended} sessions and tokens ended for {username}")

    @user_group.command("disable")
    @click.argument("username")
    def user_disable(username):
        """Disable an account: it can no longer sign in, and its sessions and tokens end now."""
        from webapp.auth.operations import deactivate_user

        deactivate_user(_user(username))
        db.session.commit()
        click.echo(f"disabled {username}; signed out everywhere")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo company (idempotent: re-running adds nothing twice)."""
        from webapp.demo.seed import DEMO_USERS, seed_demo

        counts = seed_demo()
        db.session.commit()
        from webapp.core.database import refresh_statistics

        if refresh_statistics(db.session):  # SQLite's planner statistics for what was just loaded
            db.session.commit()
        click.echo("demo data: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))
        click.echo("demo logins (username / password):")
        for u in DEMO_USERS:
            click.echo(f"  {u['username']:<12} {u['password']:<20} {u['role']}")

    @app.cli.group("aggregates")
    def aggregates_group():
        """The decision dashboard's tallies (kept with every write)."""

    @aggregates_group.command("rebuild")
    def aggregates_rebuild():
        """Recount the dashboard's tallies from the raw findings and rectifications."""
        from webapp.results.dashboard.tallies import rebuild

        findings, rectifications = rebuild()
        db.session.commit()
        click.echo(f"tallies rebuilt: {findings} finding rows, {rectifications} rectification rows")

    @app.cli.command("seed-scale")
    @click.option("--findings", "count", type=click.IntRange(1, 20_000_000), default=100_000, show_default=True,
                  help="how many findings to make")
    @click.option("--seed", type=int, default=42, show_default=True, help="the same seed makes the same company")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="the last day of the history (default: today in the company's time zone)")
    @click.option("--years", type=click.IntRange(1, 10), default=3, show_default=True)
    @click.option("--password", default=None, help="password of the scale-manager and scale-sup* accounts")
    def seed_scale_command(count, seed, today, years, password):
        """Build a large company fast (bulk inserts): sites, visits, findings, rectification histories."""
        from webapp.demo.scale import seed_scale

        result = seed_scale(count, seed=seed, today=today.date() if today else None, years=years, password=password)
        click.echo(", ".join(f"{k} {v}" for k, v in result.items() if not k.endswith("_ids")))
