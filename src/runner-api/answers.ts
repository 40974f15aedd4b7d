/** Answers both runner protocols give alike. */
import { emptyWith } from '../http/respond';

/** "Nothing for you at this queue epoch": 204 with `X-GitLab-Last-Update` (v4 always; v1 to 1.x runners). */
export const noJobAt = emptyWith(204, 'X-GitLab-Last-Update');
