/** The dashboard's stylesheet, served as /ui/style.css (the CSP allows styles from 'self' only). */
export const DASHBOARD_CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; background: #f5f6f8; }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #1d2b45; color: #fff; flex-wrap: wrap; }
header a { color: #cfe0ff; text-decoration: none; margin-right: 1rem; }
header a:hover { text-decoration: underline; }
.brand { font-size: 1.1rem; }
.logout { margin-left: auto; display: flex; gap: .6rem; align-items: center; }
.who { color: #cfe0ff; font-size: .85rem; }
main { padding: 1rem 1.2rem 3rem; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
th { background: #eef1f6; font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: flex-end; background: #fff; padding: .7rem; margin-bottom: 1rem; border: 1px solid #e3e6ec; }
.filters label { display: flex; flex-direction: column; font-size: .8rem; color: #4a5468; }
input, select, button { font: inherit; padding: .3rem .45rem; }
button { cursor: pointer; background: #2f5fd0; color: #fff; border: 0; border-radius: 3px; }
button.reject { background: #b3362f; }
button.secondary { background: #5b6476; }
.problem { border-left: 4px solid #b3362f; background: #fdeceb; padding: .5rem .8rem; margin-bottom: 1rem; }
.notice { border-left: 4px solid #2e8b57; background: #e9f6ee; padding: .5rem .8rem; margin-bottom: 1rem; }
.state { display: inline-block; padding: 0 .4rem; border-radius: 3px; background: #e3e6ec; font-size: .85rem; }
.state-active { background: #d6f0df; } .state-failed, .state-revoked, .state-rejected { background: #f7d7d5; }
.state-awaiting_approval { background: #fff1c9; } .state-issuing, .state-renewing { background: #dbe7ff; }
.muted { color: #7a8396; }
.error-message { font-family: ui-monospace, monospace; font-size: .85rem; white-space: pre-wrap; word-break: break-word; }
.decision { display: flex; gap: .4rem; flex-wrap: wrap; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; background: #fff; padding: .8rem; border: 1px solid #e3e6ec; }
dt { font-weight: 600; color: #4a5468; }
dd { margin: 0; }
progress { width: 24rem; height: 1.1rem; }
svg.timeline { background: #fff; border: 1px solid #e3e6ec; }
.login { max-width: 28rem; background: #fff; padding: 1.2rem; border: 1px solid #e3e6ec; display: flex; flex-direction: column; gap: .8rem; }
`;
