/** Relative times and running durations that keep up while the page is open. */
import { duration, timeAgo } from '../views/format';

export function refreshTimes(root: ParentNode = document) {
  const now = Date.now();
  for (const t of root.querySelectorAll<HTMLTimeElement>('time[data-ago]')) t.textContent = timeAgo(t.dateTime, now);
  for (const el of root.querySelectorAll<HTMLElement>('[data-started]')) el.textContent = duration((now - Date.parse(el.dataset.started!)) / 1000);
}

export function initTimes() {
  for (const t of document.querySelectorAll<HTMLTimeElement>('time[datetime]')) t.title ||= new Date(t.dateTime).toLocaleString();
  setInterval(() => refreshTimes(), 1000);
}
