"""工作台: the day's board, refreshed every 15 seconds without a reload."""
from __future__ import annotations

from flask import g, render_template

from ...desk.board import board as build_board
from ...workorders import rules as order_rules
from ..blueprint import bp, page


@bp.get("/")
@page()
def board():
    return render_template("admin/board.html", board=build_board(g.staff), clocks=order_rules.CLOCKS)


@bp.get("/board")
@page()
def board_fragment():
    return render_template("admin/_board.html", board=build_board(g.staff), clocks=order_rules.CLOCKS)
