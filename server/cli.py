"""flask CLI: roster import, demo data, config, staff passwords, background jobs, fees (`flask bills ...`:
bill generation, the WeChat Pay reconciliation) and meter readings."""
from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from .auth.services import set_password

from .accounts.rules import DEPARTMENTS, ROLES
from .extensions import db


def register_cli(app: Flask) -> None:
    for group in (roster_cli, demo_cli, config_cli, staff_cli, jobs_cli, community_cli, bills_cli, meters_cli):
        app.cli.add_command(group)


roster_cli = AppGroup("roster", help="业主名册")
demo_cli = AppGroup("demo", help="演示数据")
config_cli = AppGroup("config", help="配置")
staff_cli = AppGroup("staff", help="员工账号")
jobs_cli = AppGroup("jobs", help="后台任务（发件箱）")
community_cli = AppGroup("community", help="小区")
bills_cli = AppGroup("bills", help="收费：生成账单、微信支付对账")
meters_cli = AppGroup("meters", help="抄表")


@bills_cli.command("generate")
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--community", "communities", multiple=True, help="Community code (repeatable); default: all.")
def bills_generate(period: str, communities: tuple[str, ...]) -> None:
    """Generate the period's bills (safe to re-run: existing bills are kept)."""
    import re

    from .billing import generation

    if not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", period):
        raise click.ClickException("期间应为 YYYY-MM")
    report = generation.generate(period, list(communities) or None)
    click.echo(f"{period}：{report.communities} 个小区，计算 {report.computed} 笔，新建 {report.created} 笔，"
               f"已存在 {report.existing} 笔，用时 {report.seconds:.1f} 秒")
    for note in report.skipped:
        click.echo(f"  {note}")


@bills_cli.command("reconcile")
@click.option("--day", "day_text", help="YYYY-MM-DD (Beijing time); default: yesterday.")
def bills_reconcile(day_text: str | None) -> None:
    """Reconcile one day's WeChat Pay trade bill with our payments (safe to re-run)."""
    from datetime import date

    from .billing import reconciliation
    from .billing.reconciliation_compare import DIFF_KINDS, describe

    try:
        day = date.fromisoformat(day_text) if day_text else reconciliation.yesterday()
    except ValueError:
        raise click.ClickException("日期应为 YYYY-MM-DD") from None
    record = reconciliation.run(day)
    status = reconciliation.RUN_STATUSES[record.status]
    click.echo(f"{day}：{status}，交易 {record.trades} 笔，一致 {record.matched} 笔，差异 {record.differences} 条"
               + (f"；{record.error}" if record.error else ""))
    for d in reconciliation.run_diffs(record):
        click.echo(f"  [{DIFF_KINDS[d.kind]}] {d.out_trade_no or ''} {describe(d.kind, d.remote, d.local)}")
    if record.status == "failed":
        raise SystemExit(1)


@meters_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--community", "community_code", required=True)
def meters_import(path: str, community_code: str) -> None:
    """Import meter readings (CSV: 表号,期间,读数[,换表,旧表止码]); every rejected row is reported."""
    from .accounts import roster
    from .accounts.models import Community
    from .billing import generation

    community = db.session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        raise click.ClickException(f"小区 {community_code} 不存在")
    with open(path, "rb") as fh:
        text = roster.decode(fh.read())
    report = generation.import_readings(community.id, text)
    db.session.commit()
    click.echo(f"行数 {report.rows}：导入 {report.imported}，更正 {report.updated}，拒绝 {len(report.rejected)}")
    for line, reason in report.rejected:
        click.echo(f"  第 {line} 行：{reason}", err=True)
    if report.rejected:
        sys.exit(1)


@roster_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--community", "community_code", help="Community code for rows without one.")
@click.option("--dry-run", is_flag=True, help="Check the file and report, change nothing.")
def roster_import(path: str, community_code: str | None, dry_run: bool) -> None:
    """Load houses and registered residents from a CSV file (safe to re-run)."""
    from .accounts import roster

    with open(path, "rb") as fh:
        try:
            text = roster.decode(fh.read())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    report = roster.run(text, community_code, dry_run=dry_run)
    db.session.commit()
    click.echo(f"行数 {report.rows}：新增房屋 {report.houses_created}，更新房屋 {report.houses_updated}，"
               f"新增住户 {report.entries_created}，更新住户 {report.entries_updated}，无变化 {report.unchanged}，"
               f"拒绝 {len(report.rejected)}" + ("（试运行，未写入）" if dry_run else ""))
    for line, reason in report.rejected:
        click.echo(f"  第 {line} 行：{reason}", err=True)
    if report.rejected:
        sys.exit(1)


@demo_cli.command("load")
@click.option("--force", is_flag=True, help="Re-apply demo data even if the demo community exists.")
def demo_load(force: bool) -> None:
    """Load the demo community, roster and staff unless present."""
    from . import demo

    if demo.load(force=force):
        click.echo(f"演示数据已载入（员工密码 {demo.DEMO_PASSWORD}）")
    else:
        click.echo("演示数据已存在，跳过")


@community_cli.command("create")
@click.argument("code")
@click.argument("name")
def community_create(code: str, name: str) -> None:
    """Create a community (code used in the roster and by owners when binding)."""
    from .accounts.models import Community

    if db.session.scalar(select(Community).where(Community.code == code)):
        raise click.ClickException(f"小区 {code} 已存在")
    db.session.add(Community(code=code, name=name))
    db.session.commit()
    click.echo(f"已创建小区 {code} {name}")


@config_cli.command("env-example")
def config_env_example() -> None:
    """Print deploy/env.example (every setting, its meaning and default)."""
    from .config import env_example

    click.echo(env_example(), nl=False)


@config_cli.command("show")
def config_show() -> None:
    """Print the effective settings, secrets hidden."""
    from .config import redacted

    for key, value in redacted(current_app.config).items():
        click.echo(f"WUYE_{key}={value}")


@staff_cli.command("create")
@click.argument("community_code")
@click.argument("phone")
@click.argument("name")
@click.option("--department", type=click.Choice(list(DEPARTMENTS)), default="service_center", show_default=True)
@click.option("--role", type=click.Choice(list(ROLES)), default="manager", show_default=True)
def staff_create(community_code: str, phone: str, name: str, department: str, role: str) -> None:
    """Create a staff member with an admin-page password (how the first manager of a community is made)."""
    from .accounts.models import Community, Staff
    from .accounts.rules import valid_phone

    community = db.session.scalar(select(Community).where(Community.code == community_code))
    if community is None:
        raise click.ClickException(f"小区 {community_code} 不存在（先运行 flask community create）")
    if not valid_phone(phone):
        raise click.ClickException("手机号格式有误（11 位手机号）")
    if db.session.scalar(select(Staff).where(Staff.phone == phone)):
        raise click.ClickException(f"手机号 {phone} 已是员工账号")
    password = _read_password()
    db.session.add(Staff(community_id=community.id, phone=phone, name=name, department=department, role=role,
                         on_duty=True, password_hash=generate_password_hash(password)))
    db.session.commit()
    click.echo(f"已创建员工 {name}（{DEPARTMENTS[department]}{ROLES[role]}），可用手机号和密码登录管理后台")


def _read_password() -> str:
    password = sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass("密码：")
    if len(password) < 8:
        raise click.ClickException("密码至少 8 位")
    return password


@staff_cli.command("set-password")
@click.argument("phone")
def staff_set_password(phone: str) -> None:
    """Set a staff member's admin-page password (prompted, or from stdin when piped)."""
    from .accounts.models import Staff

    staff = db.session.scalar(select(Staff).where(Staff.phone == phone))
    if staff is None:
        raise click.ClickException(f"没有手机号为 {phone} 的员工")
    set_password(staff, _read_password())  # also signs them out everywhere
    db.session.commit()
    click.echo(f"已设置 {staff.name} 的密码")


@jobs_cli.command("list")
@click.option("--status", type=click.Choice(["pending", "running", "done", "failed"]), default="failed")
@click.option("--limit", default=50)
def jobs_list(status: str, limit: int) -> None:
    """List background jobs (default: failed ones, with their last error)."""
    from .outbox import OutboxJob

    rows = db.session.scalars(select(OutboxJob).where(OutboxJob.status == status)
                              .order_by(OutboxJob.id.desc()).limit(limit))
    for row in rows:
        error = (row.last_error or "").strip().splitlines()[-1:] or [""]
        click.echo(f"{row.id}\t{row.func}\t{row.kwargs}\tattempts={row.attempts}\t{row.request_id or '-'}\t{error[0]}")


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def jobs_retry(job_id: int) -> None:
    """Run a failed job again (fresh attempts)."""
    from . import outbox

    if outbox.retry(job_id) is None:
        raise click.ClickException(f"没有任务 {job_id}")
    db.session.commit()
    click.echo(f"任务 {job_id} 已重新排队")


@jobs_cli.command("sweep")
def jobs_sweep() -> None:
    """Push pending jobs Redis does not hold (what the periodic sweeper does)."""
    from . import outbox

    click.echo(outbox.sweep())
