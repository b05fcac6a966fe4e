#!/usr/bin/env python3
"""Writes deploy/grafana/routeros.json, the Grafana dashboard for routeros-exporter.

Usage: make_dashboard.py [OUT]     (default: routeros.json next to this file)

The dashboard is generated because a JSON model of a hundred panels is not
something a person can review or keep consistent by hand: here every panel is
one line of title, query, legend and unit, and the layout, datasource and
Grafana boilerplate come from one place. Edit this file, run it, commit both;
tests/e2e/check_dashboard.py fails when the JSON differs from what this writes,
checks the model statically, and runs every query against a real Prometheus
scraping the demo.

Metric names, labels and units are those of README.md ("Metric reference",
"Exporter self metrics"). Series carry `job` (one scrape job per module:
`mikrotik` = module full, `mikrotik_connectivity`) and `router` (the target name,
set by relabeling in prometheus.example.yml); there is no `module` label, so the
`job` variable selects the module.
"""

import json
import os
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}

# Label matchers shared by the queries. `=~` everywhere a variable can hold
# several values (Grafana then substitutes a regex such as `(core1|branch1)`).
JOB = 'job=~"$job"'
R = 'job=~"$job", router=~"$router"'
IF = R + ', interface=~"$interface"'
EXP = 'job=~"$exporter_job"'
EXP_T = EXP + ', target=~"$router"'
RI = "$__rate_interval"


class Layout:
    """Places panels left to right on Grafana's 24-column grid and numbers them."""

    def __init__(self):
        self.y = 0
        self.x = 0
        self.row_h = 0
        self.next_id = 1
        self.top = []  # the dashboard's top-level panels
        self.current_row = None

    def new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def row(self, title, collapsed=True):
        self.newline()
        row = {
            "type": "row",
            "id": self.new_id(),
            "title": title,
            "collapsed": collapsed,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
            "panels": [],
        }
        self.top.append(row)
        # Panels of a collapsed row live inside it (Grafana queries them only
        # when the row is opened); those of an open row follow it at the top.
        self.current_row = row if collapsed else None
        self.y += 1

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.newline()
        panel["id"] = self.new_id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        if self.current_row is not None:
            self.current_row["panels"].append(panel)
        else:
            self.top.append(panel)


def target(expr, legend="", ref="A", instant=False, fmt=None):
    t = {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "refId": ref,
    }
    if fmt:
        t["format"] = fmt
    return t


def targets(*queries, instant=False, fmt=None):
    """queries: (expr, legend) pairs, refIds A, B, ..."""
    return [
        target(expr, legend, chr(ord("A") + i), instant, fmt)
        for i, (expr, legend) in enumerate(queries)
    ]


def thresholds(*steps):
    """steps: (value, color); the first value is None (the base)."""
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }


GREEN = thresholds((None, "green"))


def timeseries(title, queries, unit, description="", stack=False, negative=(), minimum=None):
    """negative: refIds drawn below the axis (transmit, with receive above)."""
    defaults = {
        "unit": unit,
        "color": {"mode": "palette-classic"},
        "custom": {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        },
        "thresholds": GREEN,
    }
    if minimum is not None:
        defaults["min"] = minimum
    overrides = []
    for ref in negative:
        overrides.append({
            "matcher": {"id": "byFrameRefID", "options": ref},
            "properties": [{"id": "custom.transform", "value": "negative-Y"}],
        })
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": overrides},
        "options": {
            "legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                       "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": targets(*queries),
    }


def stat(title, queries, unit, steps=GREEN, description="", mappings=None, instant=True):
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": steps, "color": {"mode": "thresholds"},
                         "mappings": mappings or []},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": "auto",
        },
        "targets": targets(*queries, instant=instant),
    }


UP_DOWN = [{"type": "value", "options": {
    "0": {"text": "down", "color": "red", "index": 0},
    "1": {"text": "up", "color": "green", "index": 1},
}}]
OK_FAIL = [{"type": "value", "options": {
    "0": {"text": "fail", "color": "red", "index": 0},
    "1": {"text": "ok", "color": "green", "index": 1},
}}]


def state_timeline(title, queries, mappings, description=""):
    return {
        "type": "state-timeline",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {
            "defaults": {"unit": "none", "mappings": mappings,
                         "color": {"mode": "thresholds"},
                         "thresholds": thresholds((None, "red"), (1, "green")),
                         "custom": {"fillOpacity": 80, "lineWidth": 0}},
            "overrides": [],
        },
        "options": {"showValue": "never", "mergeValues": True, "rowHeight": 0.9,
                    "alignValue": "left", "legend": {"showLegend": False, "displayMode": "list",
                                                     "placement": "bottom"},
                    "tooltip": {"mode": "single", "sort": "none"}},
        "targets": targets(*queries),
    }


def table(title, queries, unit="none", hide=(), rename=None, description="", steps=GREEN,
          color_value=False):
    """An instant table, one row per series: its labels and value. Several
    queries over the same labels are merged into one row with a column each
    (`Value #A`, `Value #B`, named by `rename`)."""
    excluded = {name: True for name in ("Time", "__name__", *hide)}
    defaults = {"unit": unit, "thresholds": steps, "color": {"mode": "thresholds"},
                "custom": {"align": "auto", "filterable": True}}
    overrides = []
    if color_value:
        overrides.append({
            "matcher": {"id": "byRegexp", "options": "^Value.*"},
            "properties": [{"id": "custom.cellOptions", "value": {"type": "color-background"}}],
        })
    transformations = [{"id": "merge", "options": {}}] if len(queries) > 1 else []
    transformations.append({"id": "organize", "options": {
        "excludeByName": excluded, "renameByName": rename or {}}})
    return {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": overrides},
        "options": {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
        "transformations": transformations,
        "targets": targets(*queries, instant=True, fmt="table"),
    }


def bargauge(title, queries, unit, steps, description="", minimum=None, maximum=None):
    defaults = {"unit": unit, "thresholds": steps, "color": {"mode": "thresholds"}}
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"orientation": "horizontal", "displayMode": "basic", "showUnfilled": True,
                    "valueMode": "color", "namePlacement": "auto", "sizing": "auto",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "targets": targets(*queries, instant=True),
    }


def query_var(name, label, query, multi, current, include_all=None):
    include_all = multi if include_all is None else include_all
    v = {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DS,
        "definition": query,
        "query": {"query": query, "refId": "StandardVariableQuery"},
        "refresh": 2,  # on time range change: new routers appear without a reload
        "sort": 1,
        "multi": multi,
        "includeAll": include_all,
        "current": current,
        "options": [],
        "hide": 0,
        "regex": "",
    }
    if include_all:
        # `.*` instead of Grafana's default (every value joined by `|`), which
        # grows with the fleet into queries longer than a URL may be.
        v["allValue"] = ".*"
    return v


def fleet(lay):
    lay.row("Fleet overview", collapsed=False)
    lay.add(stat("Routers", [(f"count(mikrotik_probe_success{{{JOB}}})", "")], "none",
                 description="Targets the job probes (all routers, whatever the router selection)."),
            4, 4)
    lay.add(stat("Routers down", [(f"count(mikrotik_probe_success{{{JOB}}} == 0) or vector(0)", "")],
                 "none", thresholds((None, "green"), (1, "red")),
                 description="Targets whose last probe failed (mikrotik_probe_success 0)."), 4, 4)
    lay.add(stat("Probe success", [(f"avg(mikrotik_probe_success{{{JOB}}})", "")], "percentunit",
                 thresholds((None, "red"), (0.99, "orange"), (1, "green")),
                 description="Share of the job's targets whose last probe succeeded."), 4, 4)
    lay.add(stat("Failing collectors",
                 [(f"count(mikrotik_collector_success{{{JOB}}} == 0) or vector(0)", "")], "none",
                 thresholds((None, "green"), (1, "orange")),
                 description="Collector groups that failed on their router's last probe "
                             "(unsupported menus count as success)."), 4, 4)
    lay.add(stat("Reboots in range",
                 [(f'round(sum(increase(mikrotik_target_resets_total{{{JOB}, reason="reboot"}}'
                   f"[$__range])))", "")], "none", thresholds((None, "green"), (1, "orange")),
                 description="Baseline resets with reason reboot (uptime went backwards) in the "
                             "dashboard's time range."), 4, 4)
    lay.add(stat("Slowest probe", [(f"max(mikrotik_probe_duration_seconds{{{JOB}}})", "")], "s",
                 thresholds((None, "green"), (5, "orange"), (10, "red")),
                 description="Longest last probe duration in the job."), 4, 4)
    lay.add(state_timeline("Probe success", [(f"mikrotik_probe_success{{{R}}}", "{{router}}")],
                           UP_DOWN, "1 when the router answered and every supported collector "
                                    "succeeded."), 12, 8)
    lay.add(timeseries("Probe duration",
                       [(f"mikrotik_probe_duration_seconds{{{R}}}", "{{router}}"),
                        (f"mikrotik_probe_timeout_seconds{{{R}}}", "{{router}} timeout")],
                       "s", "Time the probe took, and the deadline it ran under (the scrape "
                            "timeout less --timeout-offset)."), 12, 8)
    lay.add(state_timeline("Ports reachable",
                           [(f"mikrotik_connection_status_up{{{R}}}",
                             "{{router}} {{name}} {{port}}/{{protocol}}")], UP_DOWN,
                           "Group connectivity: the API port is up when the RouterOS API "
                           "answered (the pooled session, or one bare /login), extra ports "
                           "when they take TCP connections."), 12, 8)
    lay.add(timeseries("Time to answer",
                       [(f"mikrotik_connection_status_duration_seconds{{{R}}}",
                         "{{router}} {{name}} {{port}}")], "s", minimum=0), 12, 8)
    lay.add(timeseries("Reboots and baseline resets",
                       [(f"increase(mikrotik_target_resets_total{{{R}}}[{RI}])",
                         "{{router}} {{reason}}")],
                       "none", "Baseline resets by reason: reboot (uptime went backwards), gap "
                               "(no successful probe for longer than gap_reset_threshold), "
                               "counter_reset. rate() windows that straddle one are suspect.",
                       minimum=0), 8, 8)
    lay.add(timeseries("Failed collectors per router",
                       [(f"sum by (router) (1 - mikrotik_collector_success{{{R}}})", "{{router}}")],
                       "none", "Number of collector groups that failed on the last probe.",
                       minimum=0), 8, 8)
    lay.add(timeseries("Slowest collectors",
                       [(f"topk(10, mikrotik_collector_duration_seconds{{{R}}})",
                         "{{router}} {{collector}}")], "s", "Per group time on the last probe."),
            8, 8)
    lay.add(table("Routers", [(f"mikrotik_system_info{{{R}}}", "")],
                  hide=("Value", "instance"),
                  description="RouterOS version, board and identity per router."), 24, 6)


def system(lay):
    lay.row("System", collapsed=False)
    lay.add(timeseries("CPU load", [(f"mikrotik_system_cpu_load{{{R}}}", "{{router}}")],
                       "percent", minimum=0), 8, 8)
    lay.add(timeseries("Memory used",
                       [(f"100 * (1 - mikrotik_system_free_memory_bytes{{{R}}} / "
                         f"mikrotik_system_total_memory_bytes{{{R}}})", "{{router}}")],
                       "percent", minimum=0), 8, 8)
    lay.add(timeseries("Memory",
                       [(f"mikrotik_system_total_memory_bytes{{{R}}} - "
                         f"mikrotik_system_free_memory_bytes{{{R}}}", "{{router}} used"),
                        (f"mikrotik_system_total_memory_bytes{{{R}}}", "{{router}} total")],
                       "bytes", minimum=0), 8, 8)
    lay.add(bargauge("Uptime", [(f"mikrotik_system_uptime_seconds{{{R}}}", "{{router}}")],
                     "dtdurations", thresholds((None, "orange"), (3600, "green")),
                     "Time since the router booted; orange for the first hour."), 8, 6)
    lay.add(bargauge("Storage used",
                     [(f"100 * (1 - mikrotik_system_free_hdd_bytes{{{R}}} / "
                       f"mikrotik_system_total_hdd_bytes{{{R}}})", "{{router}}")],
                     "percent", thresholds((None, "green"), (80, "orange"), (90, "red")),
                     minimum=0, maximum=100), 8, 6)
    lay.add(table("CPU",
                  [(f"mikrotik_system_cpu_cores{{{R}}}", ""),
                   (f"mikrotik_system_cpu_frequency_hertz{{{R}}} / 1e6", "")],
                  hide=("instance", "job"), rename={"Value #A": "cores", "Value #B": "MHz"}),
            8, 6)
    upgrade = thresholds((None, "green"), (1, "orange"))
    lay.add(table("RouterOS update available",
                  [(f"mikrotik_system_package_update_available{{{R}}}", "")],
                  hide=("instance", "job"), rename={"Value": "available"}, color_value=True,
                  steps=upgrade,
                  description="As of the router's last update check (the exporter never "
                              "starts one): 1 = a newer RouterOS is available."), 12, 6)
    lay.add(table("RouterBOOT upgrade available",
                  [(f"mikrotik_system_firmware_upgrade_available{{{R}}}", "")],
                  hide=("instance", "job"), rename={"Value": "available"}, color_value=True,
                  steps=upgrade, description="1 = the firmware lags the installed RouterOS."),
            12, 6)


def health(lay):
    lay.row("Health sensors")
    lay.add(timeseries("Temperature",
                       [(f"mikrotik_health_temperature_celsius{{{R}}}", "{{router}} {{sensor}}")],
                       "celsius"), 12, 8)
    lay.add(timeseries("Voltage",
                       [(f"mikrotik_health_voltage_volts{{{R}}}", "{{router}} {{sensor}}")],
                       "volt"), 12, 8)
    lay.add(timeseries("Fans", [(f"mikrotik_health_fan_speed_rpm{{{R}}}", "{{router}} {{sensor}}")],
                       "rotrpm", minimum=0), 12, 8)
    lay.add(state_timeline("PSU and state sensors",
                           [(f"mikrotik_health_ok{{{R}}}", "{{router}} {{sensor}}")], OK_FAIL,
                           "1 when the state sensor (psu1-state, ...) reads ok."), 12, 8)


def interfaces(lay):
    lay.row("Interfaces", collapsed=False)
    lay.add(timeseries("Traffic (receive up, transmit down)",
                       [(f"rate(mikrotik_interface_rx_bytes_total{{{IF}}}[{RI}]) * 8",
                         "{{router}} {{interface}} rx"),
                        (f"rate(mikrotik_interface_tx_bytes_total{{{IF}}}[{RI}]) * 8",
                         "{{router}} {{interface}} tx")],
                       "bps", "Bits per second from the raw byte counters.",
                       negative=("B",)), 24, 9)
    lay.add(timeseries("Packets",
                       [(f"rate(mikrotik_interface_rx_packets_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} rx"),
                        (f"rate(mikrotik_interface_tx_packets_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} tx")], "pps", negative=("B",)), 8, 8)
    lay.add(timeseries("Errors",
                       [(f"rate(mikrotik_interface_rx_errors_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} rx"),
                        (f"rate(mikrotik_interface_tx_errors_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} tx")], "pps", negative=("B",)), 8, 8)
    lay.add(timeseries("Drops",
                       [(f"rate(mikrotik_interface_rx_drops_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} rx"),
                        (f"rate(mikrotik_interface_tx_drops_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} tx"),
                        (f"rate(mikrotik_interface_tx_queue_drops_total{{{IF}}}[{RI}])",
                         "{{router}} {{interface}} tx queue")], "pps", negative=("B", "C")), 8, 8)
    lay.add(state_timeline("Link state",
                           [(f"mikrotik_interface_running{{{IF}}}", "{{router}} {{interface}}")],
                           UP_DOWN, "RouterOS `running` flag per interface."), 12, 10)
    lay.add(bargauge("Link downs in range",
                     [(f"increase(mikrotik_interface_link_downs_total{{{IF}}}[$__range])",
                       "{{router}} {{interface}}")], "none",
                     thresholds((None, "green"), (1, "orange"), (5, "red")),
                     "Link-down events in the dashboard's time range (flapping).", minimum=0),
            12, 10)
    lay.add(table("Interfaces",
                  [(f"mikrotik_interface_info{{{IF}}}", "")], hide=("Value", "instance", "job"),
                  description="Type, MAC address, comment, disabled and dynamic flags per "
                              "interface (dynamic ones, PPP subscribers, only from modules "
                              "that report them)."),
            24, 8)


def ethernet(lay):
    lay.row("Ethernet and SFP")
    lay.add(state_timeline("Ethernet link",
                           [(f"mikrotik_ethernet_link_up{{{IF}}}", "{{router}} {{interface}}")],
                           UP_DOWN, "status=link-ok from /interface/ethernet/monitor."), 12, 8)
    lay.add(timeseries("Negotiated rate",
                       [(f"mikrotik_ethernet_rate_bps{{{IF}}}", "{{router}} {{interface}}")],
                       "bps", "Link speed; a gigabit port at 100M shows here."), 12, 8)
    lay.add(timeseries("SFP optical power",
                       [(f"mikrotik_ethernet_sfp_rx_power_dbm{{{IF}}}", "{{router}} {{interface}} rx"),
                        (f"mikrotik_ethernet_sfp_tx_power_dbm{{{IF}}}", "{{router}} {{interface}} tx")],
                       "dBm", "Digital optical monitoring (DOM) of the module."), 8, 8)
    lay.add(timeseries("SFP temperature",
                       [(f"mikrotik_ethernet_sfp_temperature_celsius{{{IF}}}",
                         "{{router}} {{interface}}")], "celsius"), 8, 8)
    lay.add(table("SFP faults",
                  [(f"mikrotik_ethernet_sfp_rx_loss{{{IF}}}", ""),
                   (f"mikrotik_ethernet_sfp_tx_fault{{{IF}}}", "")],
                  hide=("instance", "job"), rename={"Value #A": "rx loss", "Value #B": "tx fault"},
                  color_value=True, steps=thresholds((None, "green"), (1, "red")),
                  description="Receive loss and transmit fault per module: 1 is bad."),
            8, 8)
    lay.add(table("SFP modules", [(f"mikrotik_ethernet_sfp_info{{{IF}}}", "")],
                  hide=("Value", "instance", "job")), 24, 6)


def poe(lay):
    lay.row("PoE")
    lay.add(table("PoE out status", [(f"mikrotik_poe_out_status{{{IF}}} == 1", "")],
                  hide=("Value", "instance", "job"),
                  description="Current poe-out-status per port."), 8, 8)
    lay.add(timeseries("PoE power",
                       [(f"mikrotik_poe_out_power_watts{{{IF}}}", "{{router}} {{interface}}")],
                       "watt", minimum=0), 8, 8)
    lay.add(timeseries("PoE current",
                       [(f"mikrotik_poe_out_current_amperes{{{IF}}}", "{{router}} {{interface}}")],
                       "amp", minimum=0), 8, 8)


def firewall(lay):
    lay.row("Firewall top rules")
    join = ("* on (job, instance, router, family, table, chain, rule_id) group_left (action, comment) "
            f"mikrotik_firewall_rule_info{{{R}}}")
    legend = "{{router}} {{family}} {{table}}/{{chain}} {{rule_id}} {{action}} {{comment}}"
    lay.add(timeseries("Top 10 rules by traffic",
                       [(f"topk(10, rate(mikrotik_firewall_rule_bytes_total{{{R}}}[{RI}]) * 8) "
                         + join, legend)], "bps",
                       "Rules ranked by the rate of their byte counters, with action and "
                       "comment from mikrotik_firewall_rule_info."), 12, 9)
    lay.add(timeseries("Top 10 rules by packets",
                       [(f"topk(10, rate(mikrotik_firewall_rule_packets_total{{{R}}}[{RI}])) "
                         + join, legend)], "pps"), 12, 9)


def conntrack(lay):
    lay.row("Connection tracking")
    lay.add(timeseries("Entries vs max",
                       [(f"sum by (job, instance, router) (mikrotik_conntrack_entries{{{R}}})",
                         "{{router}} entries"),
                        (f"mikrotik_conntrack_max_entries{{{R}}}", "{{router}} max")],
                       "none", minimum=0), 8, 8)
    lay.add(bargauge("Table used",
                     [(f"100 * sum by (job, instance, router) (mikrotik_conntrack_entries{{{R}}}) "
                       f"/ on (job, instance, router) mikrotik_conntrack_max_entries{{{R}}}",
                       "{{router}}")], "percent",
                     thresholds((None, "green"), (70, "orange"), (90, "red")),
                     "Connection tracking entries as a share of max-entries.", 0, 100), 8, 8)
    lay.add(timeseries("Entries by family",
                       [(f"mikrotik_conntrack_entries{{{R}}}", "{{router}} {{family}}")], "none",
                       stack=True, minimum=0), 8, 8)
    lay.add(timeseries("Top connection pairs",
                       [(f"topk(10, mikrotik_connection_tracking_count{{{R}}})",
                         "{{router}} {{src_address}} {{protocol}}")], "none",
                       "Connections per conntrack.group_by key (default: source address and "
                       "protocol; the legend shows those), the top_n largest."), 24, 8)


def tunnels(lay):
    lay.row("WireGuard and IPsec")
    lay.add(timeseries("WireGuard peer traffic",
                       [(f"rate(mikrotik_wireguard_peer_rx_bytes{{{R}}}[{RI}]) * 8",
                         "{{router}} {{interface}} {{peer}} rx"),
                        (f"rate(mikrotik_wireguard_peer_tx_bytes{{{R}}}[{RI}]) * 8",
                         "{{router}} {{interface}} {{peer}} tx")], "bps",
                       "The router's per-peer byte counts (reset with the peer); rate() "
                       "handles the resets.", negative=("B",)), 12, 8)
    lay.add(bargauge("WireGuard last handshake",
                     [(f"time() - mikrotik_wireguard_peer_latest_handshake{{{R}}}",
                       "{{router}} {{interface}} {{peer}}")], "s",
                     thresholds((None, "green"), (180, "orange"), (600, "red")),
                     "Seconds since the peer's last handshake; WireGuard re-keys every 2 "
                     "minutes while traffic flows. Peers that never had one have no series."),
            12, 8)
    lay.add(state_timeline("IPsec policies established",
                           [(f'mikrotik_ipsec_policy_ph2_state{{{R}, state="established"}}',
                             "{{router}} {{peer}} {{src_address}} > {{dst_address}}")],
                           UP_DOWN, "Phase 2 state of each static policy: established or not."),
            12, 8)
    lay.add(timeseries("IPsec peer traffic",
                       [(f"rate(mikrotik_ipsec_peer_rx_bytes_total{{{R}}}[{RI}]) * 8",
                         "{{router}} {{peer}} rx"),
                        (f"rate(mikrotik_ipsec_peer_tx_bytes_total{{{R}}}[{RI}]) * 8",
                         "{{router}} {{peer}} tx")], "bps", negative=("B",)), 12, 8)
    lay.add(timeseries("IPsec active peers",
                       [(f"mikrotik_ipsec_peer_sessions{{{R}}}", "{{router}} {{peer}}")], "none",
                       "IKE SAs per peer: 1 for a site, the number of road warriors for a "
                       "passive peer.", minimum=0), 12, 8)
    lay.add(timeseries("IPsec peer uptime",
                       [(f"mikrotik_ipsec_peer_uptime_seconds{{{R}}}", "{{router}} {{peer}}")],
                       "s", minimum=0), 12, 8)


def certificates(lay):
    lay.row("Certificates")
    lay.add(bargauge("Days until expiry",
                     [(f"sort(mikrotik_certificate_days_until_expiry{{{R}}})",
                       "{{router}} {{name}} ({{common_name}})")], "d",
                     thresholds((None, "red"), (0, "orange"), (30, "green")),
                     "Days from the router's clock to invalid-after: red once expired, "
                     "orange under 30 days."), 12, 8)
    lay.add(table("Expiry dates",
                  [(f"mikrotik_certificate_expiry_timestamp_seconds{{{R}}} * 1000", "")],
                  unit="dateTimeAsIso", hide=("instance", "job"),
                  description="invalid-after in UTC."), 12, 8)


def routing(lay):
    lay.row("BGP")
    bgp = "{{router}} {{name}} {{remote_address}} AS{{remote_as}}"
    lay.add(state_timeline("BGP sessions established",
                           [(f"mikrotik_bgp_session_established{{{R}}}", bgp)], UP_DOWN), 12, 8)
    lay.add(timeseries("Received prefixes",
                       [(f"mikrotik_bgp_session_received_prefixes{{{R}}}", bgp)], "none",
                       minimum=0), 12, 8)
    lay.add(timeseries("BGP messages",
                       [(f"rate(mikrotik_bgp_session_received_messages_total{{{R}}}[{RI}])",
                         bgp + " rx"),
                        (f"rate(mikrotik_bgp_session_sent_messages_total{{{R}}}[{RI}])",
                         bgp + " tx")], "ops", "RouterOS 7 counts messages, RouterOS 6 "
                                              "updates and withdrawals (next panel).",
                       negative=("B",)), 8, 8)
    lay.add(timeseries("BGP updates",
                       [(f"rate(mikrotik_bgp_session_received_updates_total{{{R}}}[{RI}])",
                         bgp + " rx"),
                        (f"rate(mikrotik_bgp_session_sent_updates_total{{{R}}}[{RI}])",
                         bgp + " tx")], "ops", negative=("B",)), 8, 8)
    lay.add(timeseries("BGP session uptime",
                       [(f"mikrotik_bgp_session_uptime_seconds{{{R}}}", bgp)], "s", minimum=0),
            8, 8)

    lay.row("OSPF")
    nbr = "{{router}} {{instance}} {{area}} {{router_id}} ({{interface}})"
    lay.add(timeseries("Neighbours by state",
                       [(f"sum by (router, instance, area, state) (mikrotik_ospf_neighbors{{{R}}})",
                         "{{router}} {{instance}} {{area}} {{state}}")], "none", stack=True,
                       minimum=0), 12, 8)
    lay.add(state_timeline("Neighbours in Full",
                           [(f'mikrotik_ospf_neighbor_state{{{R}, state="Full"}}', nbr)], UP_DOWN,
                           "1 while the adjacency is Full. 2-Way is normal between DROthers."),
            12, 8)
    lay.add(timeseries("Neighbour state changes",
                       [(f"increase(mikrotik_ospf_neighbor_state_changes_total{{{R}}}[{RI}])",
                         nbr)], "none", minimum=0), 12, 8)
    lay.add(timeseries("Adjacency age",
                       [(f"mikrotik_ospf_neighbor_adjacency_seconds{{{R}}}", nbr)], "s",
                       minimum=0), 12, 8)

    lay.row("Routes, BFD and VRRP")
    lay.add(timeseries("Routes by protocol",
                       [(f"mikrotik_route_routes{{{R}}}", "{{router}} {{family}} {{protocol}}")],
                       "none", stack=True, minimum=0), 12, 8)
    lay.add(timeseries("Active routes by protocol",
                       [(f"mikrotik_route_active_routes{{{R}}}",
                         "{{router}} {{family}} {{protocol}}")], "none", stack=True, minimum=0),
            12, 8)
    lay.add(state_timeline("BFD sessions",
                           [(f"mikrotik_bfd_session_up{{{R}}}",
                             "{{router}} {{local_address}} > {{remote_address}}")], UP_DOWN),
            12, 8)
    lay.add(table("VRRP state", [(f"mikrotik_vrrp_state{{{R}}} == 1", "")],
                  hide=("Value", "instance", "job"),
                  description="Current state per VRRP instance (master, backup, init)."), 12, 8)


def netwatch(lay):
    lay.row("Netwatch")
    host = "{{router}} {{name}} {{host}} ({{type}})"
    lay.add(state_timeline("Netwatch hosts",
                           [(f"mikrotik_netwatch_host_up{{{R}}}", host)], UP_DOWN,
                           "The router's own netwatch verdict per host."), 12, 8)
    lay.add(timeseries("ICMP round trip",
                       [(f"mikrotik_netwatch_icmp_rtt_average_seconds{{{R}}}", host + " avg"),
                        (f"mikrotik_netwatch_icmp_rtt_max_seconds{{{R}}}", host + " max")], "s",
                       minimum=0), 12, 8)
    lay.add(timeseries("ICMP loss",
                       [(f"mikrotik_netwatch_icmp_loss_ratio{{{R}}}", host)], "percentunit",
                       minimum=0), 12, 8)
    lay.add(timeseries("HTTP response time",
                       [(f"mikrotik_netwatch_http_response_seconds{{{R}}}", host)], "s",
                       minimum=0), 12, 8)


def queues(lay):
    lay.row("Queues")
    lay.add(timeseries("Simple queue rate",
                       [(f"mikrotik_queue_simple_rate_bps{{{R}}}",
                         "{{router}} {{name}} {{direction}}")], "bps", minimum=0), 12, 8)
    lay.add(timeseries("Simple queue drops",
                       [(f"rate(mikrotik_queue_simple_dropped_packets_total{{{R}}}[{RI}])",
                         "{{router}} {{name}} {{direction}}")], "pps", minimum=0), 12, 8)
    lay.add(timeseries("Queue tree rate",
                       [(f"mikrotik_queue_tree_rate_bps{{{R}}}", "{{router}} {{name}}")], "bps",
                       minimum=0), 12, 8)
    lay.add(timeseries("Queue tree drops",
                       [(f"rate(mikrotik_queue_tree_dropped_packets_total{{{R}}}[{RI}])",
                         "{{router}} {{name}}")], "pps", minimum=0), 12, 8)


def addressing(lay):
    lay.row("DHCP and IP pools")
    lay.add(timeseries("DHCP leases by status",
                       [(f"mikrotik_dhcp_leases{{{R}}}", "{{router}} {{server}} {{status}}")],
                       "none", stack=True, minimum=0), 12, 8)
    lay.add(bargauge("DHCP server pool bound",
                     [(f'100 * mikrotik_dhcp_leases{{{R}, status="bound"}} / ignoring (status) '
                       f"mikrotik_dhcp_server_pool_size{{{R}}}", "{{router}} {{server}}")],
                     "percent", thresholds((None, "green"), (80, "orange"), (90, "red")),
                     "Bound leases as a share of the server's address pool.", 0, 100), 12, 8)
    lay.add(bargauge("IP pool used",
                     [(f"100 * mikrotik_pool_used{{{R}}} / mikrotik_pool_size{{{R}}}",
                       "{{router}} {{pool}}")], "percent",
                     thresholds((None, "green"), (80, "orange"), (90, "red")), minimum=0,
                     maximum=100), 24, 8)


def radio(lay):
    lay.row("LTE")
    lte = "{{router}} {{interface}}"
    lay.add(timeseries("LTE signal power",
                       [(f"mikrotik_lte_rsrp_dbm{{{R}}}", lte + " RSRP"),
                        (f"mikrotik_lte_rssi_dbm{{{R}}}", lte + " RSSI")], "dBm"), 6, 8)
    lay.add(timeseries("LTE signal quality",
                       [(f"mikrotik_lte_sinr_db{{{R}}}", lte + " SINR"),
                        (f"mikrotik_lte_rsrq_db{{{R}}}", lte + " RSRQ")], "dB"), 6, 8)
    lay.add(table("LTE registration", [(f"mikrotik_lte_registration_status{{{R}}} == 1", "")],
                  hide=("Value", "instance", "job"), description="Current registration status."),
            4, 8)
    lay.add(table("LTE operator", [(f"mikrotik_lte_info{{{R}}}", "")],
                  hide=("Value", "instance", "job")), 8, 8)

    lay.row("Wireless")
    lay.add(timeseries("Wireless clients",
                       [(f"mikrotik_wireless_clients{{{R}}}", "{{router}} {{interface}} {{ssid}}")],
                       "none", stack=True, minimum=0), 8, 8)
    lay.add(timeseries("Noise floor",
                       [(f"mikrotik_wireless_interface_noise_floor_dbm{{{R}}}",
                         "{{router}} {{interface}}")], "dBm",
                       "Legacy wireless package only (RouterOS 6, 7 without wifi)."), 8, 8)
    lay.add(timeseries("TX CCQ",
                       [(f"mikrotik_wireless_interface_tx_ccq_ratio{{{R}}}",
                         "{{router}} {{interface}}")], "percentunit",
                       "Legacy wireless package only.", minimum=0), 8, 8)


def services(lay):
    lay.row("Time, DNS, PPP, users and containers")
    lay.add(state_timeline("NTP synchronised",
                           [(f"mikrotik_ntp_synchronized{{{R}}}", "{{router}}")], OK_FAIL), 8, 8)
    lay.add(timeseries("NTP offset", [(f"mikrotik_ntp_offset_seconds{{{R}}}", "{{router}}")], "s",
                       "RouterOS 7: the signed system offset; RouterOS 6: the last adjustment."),
            8, 8)
    lay.add(timeseries("DNS cache",
                       [(f"mikrotik_dns_cache_used_bytes{{{R}}}", "{{router}} used"),
                        (f"mikrotik_dns_cache_size_bytes{{{R}}}", "{{router}} size")], "bytes",
                       minimum=0), 8, 8)
    lay.add(timeseries("PPP sessions",
                       [(f"mikrotik_ppp_active_sessions{{{R}}}", "{{router}} {{service}}")], "none",
                       stack=True, minimum=0), 8, 8)
    lay.add(timeseries("Logged-in users",
                       [(f"mikrotik_users_active_sessions{{{R}}}", "{{router}} {{via}}")], "none",
                       stack=True, minimum=0), 8, 8)
    lay.add(timeseries("Hotspot users",
                       [(f"mikrotik_hotspot_active_users{{{R}}}", "{{router}} {{server}}")], "none",
                       stack=True, minimum=0), 8, 8)
    lay.add(table("Containers", [(f"mikrotik_container_status{{{R}}} == 1", "")],
                  hide=("Value", "instance", "job"),
                  description="Current status per container."), 24, 6)


def exporter(lay):
    lay.row("The exporter")
    lay.add(timeseries("Probes by result",
                       [(f"sum by (target, module, result) "
                         f"(rate(routeros_exporter_probes_total{{{EXP_T}}}[{RI}]))",
                         "{{target}} {{module}} {{result}}")], "ops", minimum=0), 8, 8)
    lay.add(timeseries("Probe duration (p50, p99)",
                       [(f"histogram_quantile(0.5, sum by (le, target) "
                         f"(rate(routeros_exporter_probe_duration_seconds_bucket{{{EXP_T}}}[{RI}])))",
                         "{{target}} p50"),
                        (f"histogram_quantile(0.99, sum by (le, target) "
                         f"(rate(routeros_exporter_probe_duration_seconds_bucket{{{EXP_T}}}[{RI}])))",
                         "{{target}} p99")], "s", minimum=0), 8, 8)
    lay.add(timeseries("Collector duration p90",
                       [(f"topk(10, histogram_quantile(0.9, sum by (le, collector) "
                         f"(rate(routeros_exporter_collector_duration_seconds_bucket{{{EXP}}}"
                         f"[{RI}]))))", "{{collector}}")], "s", minimum=0), 8, 8)
    lay.add(timeseries("API sessions",
                       [(f"routeros_exporter_sessions_open{{{EXP_T}}}", "{{target}} open"),
                        (f"routeros_exporter_sessions_active{{{EXP_T}}}", "{{target}} active")],
                       "none", "Pooled sessions and those with commands in flight.", minimum=0),
            8, 8)
    lay.add(timeseries("Logins",
                       [(f"sum by (target, result) "
                         f"(increase(routeros_exporter_logins_total{{{EXP_T}}}[{RI}]))",
                         "{{target}} {{result}}")], "none",
                       "Logins per interval; a steady stream means sessions are not reused.",
                       minimum=0), 8, 8)
    lay.add(timeseries("Sessions closed",
                       [(f"sum by (target, reason) "
                         f"(increase(routeros_exporter_sessions_closed_total{{{EXP_T}}}[{RI}]))",
                         "{{target}} {{reason}}")], "none", minimum=0), 8, 8)
    lay.add(timeseries("Shed and coalesced probes",
                       [(f"rate(routeros_exporter_probes_shed_total{{{EXP}}}[{RI}])",
                         "{{instance}} shed (503)"),
                        (f"rate(routeros_exporter_probes_coalesced_total{{{EXP}}}[{RI}])",
                         "{{instance}} coalesced")], "ops",
                       "Shed: refused at max_concurrent_probes. Coalesced: joined an identical "
                       "probe already in flight.", minimum=0), 8, 8)
    lay.add(timeseries("Connect failures",
                       [(f"increase(routeros_exporter_connect_failures_total{{{EXP_T}}}[{RI}])",
                         "{{target}}")], "none", minimum=0), 8, 8)
    lay.add(timeseries("API traffic",
                       [(f"rate(routeros_exporter_received_bytes_total{{{EXP_T}}}[{RI}]) * 8",
                         "{{target}} received"),
                        (f"rate(routeros_exporter_sent_bytes_total{{{EXP_T}}}[{RI}]) * 8",
                         "{{target}} sent")], "bps", negative=("B",)), 8, 8)
    lay.add(timeseries("API commands",
                       [(f"rate(routeros_exporter_commands_total{{{EXP_T}}}[{RI}])", "{{target}}")],
                       "ops", minimum=0), 8, 8)
    lay.add(stat("Config reload",
                 [(f"routeros_exporter_config_last_reload_successful{{{EXP}}}", "{{instance}}")],
                 "none", thresholds((None, "red"), (1, "green")), mappings=OK_FAIL), 4, 8)
    lay.add(table("Version", [(f"routeros_exporter_build_info{{{EXP}}}", "")],
                  hide=("Value", "job")), 4, 8)
    usage = timeseries("Exporter CPU and memory",
                       [(f"rate(process_cpu_seconds_total{{{EXP}}}[{RI}])", "{{instance}} CPU"),
                        (f"process_resident_memory_bytes{{{EXP}}}", "{{instance}} resident")],
                       "percentunit", "CPU as a share of one core; resident memory on the "
                                      "right axis.", minimum=0)
    usage["fieldConfig"]["overrides"].append({
        "matcher": {"id": "byFrameRefID", "options": "B"},
        "properties": [{"id": "unit", "value": "bytes"},
                       {"id": "custom.axisPlacement", "value": "right"}],
    })
    lay.add(usage, 8, 8)


def annotations():
    return {"list": [
        {
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        },
        {
            "datasource": DS,
            "enable": True,
            "hide": False,
            "iconColor": "orange",
            "name": "Router reboots",
            "expr": f'changes(mikrotik_target_resets_total{{{R}, reason="reboot"}}[2m]) > 0',
            "step": "60s",
            "titleFormat": "{{router}} rebooted",
            "textFormat": "uptime went backwards",
            "useValueForTime": False,
        },
    ]}


def templating():
    return {"list": [
        {
            # The datasource as a variable: `${DS_PROMETHEUS}` then resolves when
            # the file is provisioned from disk; on UI import, Grafana replaces
            # it with the datasource chosen for the __inputs entry.
            "type": "datasource",
            "name": "DS_PROMETHEUS",
            "label": "Data source",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "includeAll": False,
            "multi": False,
            "options": [],
            "refresh": 1,
            "regex": "",
        },
        query_var("job", "Job (module)", "label_values(mikrotik_probe_success, job)", False,
                  {"selected": True, "text": "mikrotik", "value": "mikrotik"}),
        query_var("router", "Router",
                  'label_values(mikrotik_probe_success{job=~"$job"}, router)', True,
                  {"selected": True, "text": ["All"], "value": ["$__all"]}),
        query_var("interface", "Interface",
                  'label_values(mikrotik_interface_running{job=~"$job", router=~"$router"}, '
                  "interface)", True,
                  {"selected": True, "text": ["All"], "value": ["$__all"]}),
        query_var("exporter_job", "Exporter job", "label_values(routeros_exporter_build_info, job)",
                  False, {"selected": True, "text": "routeros_exporter",
                          "value": "routeros_exporter"}),
    ]}


def dashboard():
    lay = Layout()
    for section in (fleet, system, health, interfaces, ethernet, poe, firewall, conntrack, tunnels,
                    certificates, routing, netwatch, queues, addressing, radio, services, exporter):
        section(lay)
    panel_types = sorted({p["type"] for p in walk(lay.top)} - {"row"})
    return {
        "__inputs": [{
            "name": "DS_PROMETHEUS",
            "label": "Prometheus",
            "description": "The Prometheus that scrapes routeros-exporter",
            "type": "datasource",
            "pluginId": "prometheus",
            "pluginName": "Prometheus",
        }],
        "__elements": {},
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ] + [{"type": "panel", "id": t, "name": t, "version": ""} for t in panel_types],
        "annotations": annotations(),
        "description": "MikroTik RouterOS routers through routeros-exporter: fleet, system, "
                       "interfaces, firewall, tunnels, routing, services and the exporter itself.",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "liveNow": False,
        "panels": lay.top,
        "refresh": "1m",
        "schemaVersion": 39,
        "tags": ["mikrotik", "routeros", "routeros-exporter"],
        "templating": templating(),
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": "RouterOS exporter",
        "uid": "routeros-exporter",
        "version": 1,
        "weekStart": "",
    }


def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))


def render():
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "routeros.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write(render())


if __name__ == "__main__":
    main()
