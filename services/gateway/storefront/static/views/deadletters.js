// Dead letters: events no subscriber could handle, each with a Replay
// button that publishes it again to its topic (its replays are counted).

import { deadLetters, replayDeadLetter } from '../api.js';
import { h, replace, title, time, announce, loadPage } from '../ui.js';
import { adminNav, guard } from './admin.js';

export async function render(main, ctx) {
  ctx.setTitle('Back office: dead letters');
  if (!guard(main)) return;
  const data = await loadPage(main, ctx.signal, () => deadLetters(ctx.signal), {
    loadingText: 'Loading dead letters…',
    heading: 'Dead letters cannot be shown',
    after: [adminNav('deadletters')],
  });
  if (!data) return;

  const items = data.items || [];
  const refresh = h('button', { type: 'button', 'data-testid': 'refresh-deadletters', onclick: () => ctx.navigate('/admin/deadletters') }, 'Refresh');
  replace(main, title('Dead letters'), adminNav('deadletters'),
    h('p', { 'data-testid': 'deadletter-total' }, data.total === 1 ? '1 dead letter kept.' : `${data.total ?? items.length} dead letters kept.`, ' ', refresh),
    items.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'responsive deadletters', 'data-testid': 'deadletters-table' },
        h('caption', { class: 'visually-hidden' }, 'Dead letters, newest first'),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Topic'), h('th', { scope: 'col' }, 'Type'),
          h('th', { scope: 'col', class: 'num' }, 'Deliveries'), h('th', { scope: 'col' }, 'Arrived'),
          h('th', { scope: 'col', class: 'num' }, 'Replays'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h('tbody', {}, items.map(row))))
      : h('p', { 'data-testid': 'no-deadletters' }, 'No dead letters: every event was handled.'));
}

function row(d) {
  const replays = h('td', { class: 'num', 'data-label': 'Replays', 'data-testid': 'deadletter-replays' }, String(d.replays));
  const tr = h('tr', { 'data-testid': 'deadletter-row', 'data-id': d.id, 'data-replays': d.replays });
  const button = h('button', {
    type: 'button',
    class: 'primary',
    'aria-label': `Replay dead letter ${d.id}`,
    'data-testid': 'replay',
    onclick: async () => {
      button.disabled = true;
      try {
        const after = await replayDeadLetter(d.id);
        const n = after?.replays ?? d.replays + 1;
        tr.dataset.replays = String(n);
        tr.classList.add('replayed');
        replace(replays, String(n), ' ', h('span', { class: 'badge status-shipped', 'data-testid': 'replayed' }, 'Replayed'));
        replace(button, 'Replay again');
        button.setAttribute('aria-label', `Replay dead letter ${d.id} again`);
        announce(`Dead letter ${d.id} replayed to ${d.topic} (${n} ${n === 1 ? 'replay' : 'replays'}).`);
      } catch (err) {
        announce(`Replay of ${d.id} failed: ${err.message}`, 'error');
      } finally {
        button.disabled = false;
      }
    },
  }, 'Replay');
  let data;
  try {
    data = JSON.stringify(d.data, null, 2);
  } catch {
    data = String(d.data);
  }
  tr.append(
    h('th', { scope: 'row', 'data-label': 'ID' },
      h('code', { class: 'id' }, d.id),
      h('details', {}, h('summary', {}, 'Data'), h('pre', { class: 'data' }, data))),
    h('td', { 'data-label': 'Topic' }, d.topic),
    h('td', { 'data-label': 'Type' }, d.type),
    h('td', { class: 'num', 'data-label': 'Deliveries' }, String(d.deliveries)),
    h('td', { 'data-label': 'Arrived' }, time(d.arrivedAt)),
    replays,
    h('td', { 'data-label': '' }, button));
  return tr;
}
