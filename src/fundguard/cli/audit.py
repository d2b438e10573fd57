"""`fundguard audit …`: the 事中/事前 real-time audit — history store, server, one-message check, load test."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import JsonOpt, WarehouseOpt, console, print_json
from fundguard.errors import FundguardError, Problem

HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="历史库文件（默认 $FUNDGUARD_AUDIT_HISTORY 或 var/audit-history.duckdb）/ history store file",
    ),
]


def _history(path: Path | None) -> Path:
    import os

    from fundguard.realtime.api import DEFAULT_HISTORY

    return Path(path or os.environ.get("FUNDGUARD_AUDIT_HISTORY") or DEFAULT_HISTORY)


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="事中/事前实时审核接口 / real-time (settlement, prescription) audit", no_args_is_help=True)
    app.add_typer(audit, name="audit")

    @audit.command("build-history", help="从数据仓库或 Parquet 目录构建按人员聚簇的历史库 / build the history store")
    def build_history(
        warehouse: WarehouseOpt = None,
        folder: Annotated[
            Path | None,
            typer.Option(
                "--from-folder", help="国家表 Parquet 目录（如 fundguard synth 输出）/ folder of national Parquet"
            ),
        ] = None,
        out: HistoryOpt = None,
        json_: JsonOpt = False,
    ) -> None:
        from fundguard.realtime.history import build_from_folder, build_from_warehouse
        from fundguard.warehouse import resolve_path

        target = _history(out)
        summary = build_from_folder(folder, target) if folder else build_from_warehouse(resolve_path(warehouse), target)
        if json_:
            print_json(summary)
            return
        rows = summary["rows"]
        console.print(
            f"历史库已写入 {summary['path']}：参保人 {rows['psn_info']:,}，结算 {rows['setl_d']:,}，"
            f"费用明细 {rows['fee_list_d']:,}，知识点 {rows['kb_point']:,}，用时 {summary['seconds']} 秒\n"
            f"按人员索引（事中审核一次查询取回一批人员的历史）：{summary['person_store']}，{rows['person_pages']:,} 页"
        )

    @audit.command("serve", help="启动审核接口服务 / run the audit API server")
    def serve(
        history: HistoryOpt = None,
        log: Annotated[Path | None, typer.Option("--log", help="调用日志 SQLite 文件 / call-log SQLite file")] = None,
        host: Annotated[str, typer.Option("--host", help="监听地址 / bind address")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8100,
        workers: Annotated[int, typer.Option("--workers", help="进程数 / worker processes")] = 1,
        pool: Annotated[int, typer.Option("--pool", help="每进程并行评估上下文数 / contexts per process")] = 1,
        parallel: Annotated[
            int,
            typer.Option(
                "--parallel",
                help="每上下文并行执行规则的游标数（实测 1 最快）/ cursors per context (1 measured fastest on 2 cores)",
            ),
        ] = 1,
        max_wait_ms: Annotated[
            float | None,
            typer.Option(
                "--max-wait-ms",
                help="排队超过此毫秒数仍未审核的结算立即答复 503 审核繁忙（默认 5000，0 不限）"
                " / answer a claim still queued after this many ms with 503 busy (default 5000, 0: no limit)",
            ),
        ] = None,
        executor: Annotated[
            str,
            typer.Option(
                "--executor",
                help="规则执行器：sqlite（默认，规则语句只编译一次）或 duckdb（每批重新规划）"
                " / rule executor: sqlite (default, statements compiled once) or duckdb (planned per pass)",
            ),
        ] = "sqlite",
    ) -> None:
        import os

        import uvicorn

        from fundguard.realtime.auditor import EXECUTORS

        store = _history(history)
        if not store.exists():
            raise FundguardError(
                f"历史库不存在：{store}（请先执行 fundguard audit build-history）",
                f"history store not found: {store} (run fundguard audit build-history)",
            )
        os.environ["FUNDGUARD_AUDIT_HISTORY"] = str(store)
        if log:
            os.environ["FUNDGUARD_AUDIT_LOG"] = str(log)
        os.environ["FUNDGUARD_AUDIT_POOL"] = str(pool)
        os.environ["FUNDGUARD_AUDIT_PARALLEL"] = str(parallel)
        if executor not in EXECUTORS:
            raise FundguardError(
                f"--executor 应为 {'、'.join(EXECUTORS)} 之一，而不是 {executor!r}",
                f"--executor must be one of {', '.join(EXECUTORS)}, not {executor!r}",
            )
        os.environ["FUNDGUARD_AUDIT_EXECUTOR"] = executor
        if max_wait_ms is not None:  # checked once here, not in each worker process
            if max_wait_ms < 0:
                raise FundguardError(
                    "--max-wait-ms 应为不小于 0 的毫秒数（0 表示不限）", "--max-wait-ms must be >= 0 ms (0: no limit)"
                )
            os.environ["FUNDGUARD_AUDIT_MAX_WAIT_MS"] = str(max_wait_ms)
        console.print(f"事中/事前审核接口：http://{host}:{port}/api/v1/audit/settlement 、/prescription")
        uvicorn.run("fundguard.realtime.api:create_app", factory=True, host=host, port=port, workers=workers)

    @audit.command("check", help="审核一条报文文件并输出应答 / audit one message from a JSON file")
    def check(
        file: Annotated[Path, typer.Argument(help="报文 JSON 文件 / message file")],
        history: HistoryOpt = None,
        kind: Annotated[
            str | None,
            typer.Option("--kind", help="settlement|prescription（默认按 infno 判断）/ endpoint, default from infno"),
        ] = None,
        until: Annotated[
            str | None,
            typer.Option("--history-until", help="只用此时间之前的历史（回放）/ replay: history before this time"),
        ] = None,
    ) -> None:
        from fundguard.realtime.auditor import Auditor
        from fundguard.realtime.messages import PRESCRIPTION_INFNOS, MessageError, parse

        try:
            payload = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise FundguardError(
                f"无法读取报文文件 {file}：{e}",
                f"cannot read message file {file}: {e}",
                [Problem(str(file), "读取失败", str(e))],
            ) from None
        infno = str(payload.get("infno", "")) if isinstance(payload, dict) else ""
        k = kind or ("prescription" if infno in PRESCRIPTION_INFNOS else "settlement")
        if k not in ("settlement", "prescription"):
            raise FundguardError("--kind 应为 settlement 或 prescription", "--kind must be settlement or prescription")
        history_until = None
        if until:
            try:
                history_until = dt.datetime.fromisoformat(until)
            except ValueError:
                raise FundguardError(
                    f"--history-until 时间格式错误：{until}", f"bad --history-until: {until}"
                ) from None
        try:
            msg = parse(k, payload, source=str(file))
        except MessageError as e:
            print_json({"infcode": -1, "err_msg": f"{e.zh} / {e.en}", "errors": [p.as_dict() for p in e.problems]})
            raise
        auditor = Auditor(_history(history))
        try:
            result = auditor.audit(k, msg, history_until)
        finally:
            auditor.close()
        print_json(
            {
                "infcode": 0,
                "err_msg": "",
                "inf_refmsgid": msg.msgid,
                "output": {"result": result.result, "lines": result.lines, "summary": result.summary},
            }
        )

    @audit.command("loadtest", help="压力测试：子进程启动服务，按固定速率发送结算报文 / load test the API")
    def loadtest(
        rps: Annotated[float, typer.Option("--rps", help="每秒请求数 / requests per second")] = 50,
        duration: Annotated[float, typer.Option("--duration", help="持续秒数 / seconds")] = 60,
        lines: Annotated[int, typer.Option("--lines", help="每笔结算的明细行数 / fee lines per settlement")] = 30,
        persons: Annotated[
            int, typer.Option("--persons", help="合成统筹区人数（需新建历史库时）/ persons of the synthetic region")
        ] = 1_000_000,
        history: HistoryOpt = None,
        region: Annotated[
            Path | None,
            typer.Option("--region", help="已有合成数据目录（复用）/ existing synthetic region folder to reuse"),
        ] = None,
        workers: Annotated[int, typer.Option("--workers", help="服务进程数 / server processes")] = 1,
        out: Annotated[Path, typer.Option("--out", help="结果目录 / results folder")] = Path("bench-results"),
        sequential_n: Annotated[
            int,
            typer.Option(
                "--sequential",
                help="改为逐笔发送 N 笔（测空闲时延，忽略 --rps/--duration）/ send N claims one at a time (idle latency)",
            ),
        ] = 0,
        json_: JsonOpt = False,
    ) -> None:
        from fundguard.realtime.history import build_from_folder
        from fundguard.realtime.loadtest import run, sequential

        store = history or Path(f"var/bench/audit-history-{persons}.duckdb")
        extra: dict = {}
        if not store.exists():
            folder = region or Path(f"var/bench/region-{persons}")
            if not (folder / "fee_list_d.parquet").exists():
                from fundguard.data.synth import generate

                console.print(f"生成合成统筹区 {persons:,} 人 → {folder} / generating the region")
                extra["synth"] = {
                    k: v for k, v in generate(folder, persons=persons, seed=7).items() if k in ("rows", "seconds")
                }
            console.print(f"构建历史库 → {store} / building the history store")
            extra["history_build"] = build_from_folder(folder, store)
        if sequential_n > 0:
            console.print(f"逐笔发送 {sequential_n} 笔，每笔 {lines} 行 / sequential calls")
            seq = sequential(store, sequential_n, lines)
            if json_:
                print_json(seq)
            else:
                console.print(seq)
            return
        if rps <= 0 or duration <= 0 or duration > 600 or rps > 500:
            raise FundguardError(
                "--rps 须在 (0, 500]，--duration 须在 (0, 600] 秒", "--rps in (0, 500], --duration in (0, 600]"
            )
        console.print(f"压测：{rps} 请求/秒 × {duration} 秒，每笔 {lines} 行 / firing")
        report = run(store, rps, duration, lines, workers, out, extra)
        if json_:
            print_json(report)
            return
        lat = report["latency_ms"]
        console.print(
            f"请求 {report['requests']}，成功 {report['ok']}，错误 {report['errors']}；"
            f"延迟 p50 {lat['p50']} ms，p95 {lat['p95']} ms，p99 {lat['p99']} ms，最大 {lat['max']} ms；"
            f"结果 {report['report_path']}"
        )
