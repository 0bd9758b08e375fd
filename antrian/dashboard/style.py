"""The dashboard's CSS, one stylesheet for the login and the live page, inlined by
page.py (the LAN has no internet, so nothing comes from a CDN)."""

CSS = r"""
:root {
  --navy: #0f2a4a; --navy2: #1a3d66; --yellow: #ffd54f; --bg: #eef2f7; --card: #ffffff;
  --text: #1b2733; --muted: #607085; --line: #e1e7ef; --ok: #2e7d32; --okbg: #e6f4e7;
  --warn: #b45f06; --warnbg: #fff1dc; --off: #6b7785; --offbg: #eceff3; --bad: #c62828; --badbg: #fdeaea;
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body { background: var(--bg); color: var(--text); font: 15px/1.4 "Segoe UI", Roboto, "Noto Sans", "Liberation Sans",
       Arial, "DejaVu Sans", sans-serif; font-variant-numeric: tabular-nums; }
h1, h2, h3 { margin: 0; }
button { font: inherit; cursor: pointer; }
.top { background: var(--navy); color: #fff; display: flex; align-items: center; justify-content: space-between;
       padding: 12px 24px; gap: 16px; }
.brand { display: flex; align-items: center; gap: 14px; min-width: 0; }
.logo { width: 46px; height: 46px; border-radius: 50%; background: var(--yellow); color: var(--navy);
        display: grid; place-items: center; font-weight: 700; font-size: 14px; flex: none;
        box-shadow: 0 0 0 3px rgba(255,255,255,.85); }
.top h1 { font-size: 21px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.top .sub { color: var(--yellow); font-size: 14px; }
.top-right { display: flex; align-items: center; gap: 14px; flex: none; }
.top-right form { margin: 0; }
.user { color: #c9d6e6; font-size: 14px; }
.logout { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.5); border-radius: 6px;
          padding: 5px 14px; }
.logout:hover { background: rgba(255,255,255,.12); }
.conn { display: inline-flex; align-items: center; gap: 7px; font-size: 13px; font-weight: 600; padding: 4px 11px;
        border-radius: 999px; background: rgba(255,255,255,.12); color: #fff; }
.conn::before { content: ""; width: 9px; height: 9px; border-radius: 50%; background: #9aa7b6; }
.conn.live::before { background: #4caf50; box-shadow: 0 0 0 3px rgba(76,175,80,.3); }
.conn.down::before { background: #ff5252; }
.banner { background: var(--badbg); color: var(--bad); border-bottom: 1px solid #f3c4c4; padding: 9px 24px;
          font-weight: 600; }
main { padding: 18px 24px 8px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 18px; }
.tile { background: var(--card); border-radius: 10px; padding: 12px 16px; border: 1px solid var(--line);
        border-top: 4px solid var(--navy2); }
.tile .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 30px; font-weight: 700; line-height: 1.2; }
.tile .value small { font-size: 16px; color: var(--muted); font-weight: 600; }
.tile .note { color: var(--muted); font-size: 13px; }
.grid { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(0, 1.05fr) minmax(0, .8fr); gap: 18px;
        align-items: start; }
.col { display: flex; flex-direction: column; gap: 14px; min-width: 0; }
.section-title { font-size: 15px; font-weight: 700; color: var(--navy); text-transform: uppercase;
                 letter-spacing: .04em; margin: 0 0 -4px; }
.card { background: var(--card); border-radius: 10px; border: 1px solid var(--line); overflow: hidden; }
.card > h2 { font-size: 15px; padding: 10px 14px; border-bottom: 1px solid var(--line); color: var(--navy); }
.agency { border-left: 5px solid var(--agency, var(--navy2)); }
.agency header { display: flex; justify-content: space-between; align-items: baseline; gap: 12px;
                 padding: 9px 14px 7px; border-bottom: 1px solid var(--line); }
.agency h3 { font-size: 17px; }
.agency .sub { color: var(--muted); font-size: 12.5px; }
.agency-total { white-space: nowrap; color: var(--muted); font-size: 14px; }
.agency-total b { color: var(--text); font-size: 20px; margin-right: 3px; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
col.c-prefix { width: 48px; } col.c-num { width: 86px; } col.c-status { width: 126px; }
col.c-loket { width: 100px; } col.c-state { width: 96px; } col.c-wait { width: 96px; }
th { text-align: left; color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase;
     letter-spacing: .03em; padding: 6px 10px; background: #f7f9fc; }
td { padding: 6px 10px; border-top: 1px solid var(--line); vertical-align: middle; }
.num { text-align: right; white-space: nowrap; }
td.num { font-size: 17px; font-weight: 600; }
td.zero { color: #a3adba; font-weight: 500; }
tr.closed td { color: var(--muted); }
.prefix { display: inline-grid; place-items: center; min-width: 30px; height: 28px; border-radius: 6px;
          background: var(--navy); color: var(--yellow); font-weight: 700; padding: 0 6px; }
.svc-name { font-weight: 600; }
.svc-more { color: var(--muted); font-size: 12.5px; }
.pill { display: inline-block; font-size: 12.5px; font-weight: 700; padding: 2px 10px; border-radius: 999px;
        white-space: nowrap; }
.pill.ok { background: var(--okbg); color: var(--ok); }
.pill.warn { background: var(--warnbg); color: var(--warn); }
.pill.off { background: var(--offbg); color: var(--off); }
.pill.bad { background: var(--badbg); color: var(--bad); }
.reason { color: var(--muted); font-size: 12px; margin-top: 2px; }
.ticket { font-size: 21px; font-weight: 800; color: var(--navy); letter-spacing: .02em; }
.idle { color: #a3adba; }
.svc-small { color: var(--muted); font-size: 12.5px; }
td.serving .svc-small { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.codes { color: var(--muted); font-size: 12px; }
.feed { list-style: none; margin: 0; padding: 0; }
.feed li { display: flex; align-items: center; gap: 10px; padding: 7px 14px; border-top: 1px solid var(--line); }
.feed li:first-child { border-top: 0; }
.feed .ticket { font-size: 18px; min-width: 64px; }
.feed .what { flex: 1; min-width: 0; }
.feed .what div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.feed .time { color: var(--muted); font-size: 13px; white-space: nowrap; }
.feed li.new { box-shadow: inset 4px 0 0 var(--yellow); background: #fffbea; }
.feed .right { display: flex; flex-direction: column; align-items: flex-end; gap: 2px; }
.feed li.latest .ticket { color: #0b5394; }
.tag { font-size: 11.5px; font-weight: 700; padding: 1px 7px; border-radius: 999px; background: var(--warnbg);
       color: var(--warn); margin-left: 6px; }
.empty { color: var(--muted); padding: 12px 14px; margin: 0; font-style: italic; }
.devices { display: grid; grid-template-columns: 1fr 1fr; }
.device { display: flex; align-items: center; gap: 9px; padding: 7px 14px; border-top: 1px solid var(--line); }
.device .dot { width: 10px; height: 10px; border-radius: 50%; background: #b8c2cd; flex: none; }
.device.online .dot { background: #43a047; }
.device.offline .dot { background: var(--bad); }
.device .name { font-weight: 600; }
.device .role { color: var(--muted); font-size: 12.5px; }
.device .problem { color: var(--bad); font-size: 12.5px; font-weight: 600; }
.device > div { min-width: 0; }
footer { display: flex; justify-content: space-between; color: var(--muted); font-size: 13px; padding: 6px 24px 18px; }
/* login */
.login-wrap { min-height: 100vh; display: grid; place-items: center; padding: 24px;
              background: linear-gradient(160deg, var(--navy) 0 42%, var(--bg) 42%); }
.login { background: var(--card); width: 100%; max-width: 380px; border-radius: 12px; padding: 28px 30px;
         box-shadow: 0 12px 40px rgba(15,42,74,.25); }
.login .logo { margin-bottom: 12px; }
.login h1 { font-size: 20px; color: var(--navy); }
.login p.site { color: var(--muted); margin: 4px 0 18px; }
.login label { display: block; font-weight: 600; font-size: 14px; margin: 12px 0 4px; }
.login input { width: 100%; font: inherit; padding: 9px 11px; border: 1px solid #c5cfdb; border-radius: 7px; }
.login input:focus { outline: 2px solid #5b8fd6; border-color: transparent; }
.login button { width: 100%; margin-top: 20px; background: var(--navy); color: #fff; border: 0; border-radius: 7px;
                padding: 10px; font-weight: 700; }
.login button:hover { background: var(--navy2); }
.error { background: var(--badbg); color: var(--bad); border-radius: 7px; padding: 8px 11px; font-weight: 600;
         font-size: 14px; }
.hint { color: var(--muted); font-size: 12.5px; margin-top: 16px; }
@media (max-width: 1300px) {
  .grid { grid-template-columns: minmax(0, 1.3fr) minmax(0, 1fr); }
  .col.feeds { grid-column: 1 / -1; display: grid; grid-template-columns: 1fr 1fr; }
  .col.feeds .section-title { grid-column: 1 / -1; margin: 0; }
}
@media (max-width: 900px) {
  .grid, .col.feeds { grid-template-columns: 1fr; }
  .tiles { grid-template-columns: repeat(2, 1fr); }
}
@media (max-width: 640px) {
  .devices { grid-template-columns: 1fr; }
  .top { flex-wrap: wrap; }
}
"""
