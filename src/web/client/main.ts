/**
 * The dashboard's only script (built by `bun build` at bundle time, src/web/bundle.ts): the
 * pages are rendered by the server; this adds what needs the browser, chosen by the page's
 * `data-page`.
 */
import { initActions } from './actions';
import { initNewUser, initRunPipeline } from './forms';
import { initJob } from './job';
import { initPipeline } from './pipeline';
import { initSignIn } from './sign-in';
import { initTimes } from './times';

initTimes();
initActions();
switch (document.body.dataset.page) {
  case 'sign-in': initSignIn(); break;
  case 'job': initJob(); break;
  case 'pipeline': initPipeline(); break;
  case 'new-pipeline': initRunPipeline(); break;
  case 'users': initNewUser(); break;
}
