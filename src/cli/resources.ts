/**
 * The fields of the REST API's answers (consumer-api.md §2) that the client commands read.
 * The server sends more; `--json` prints them all.
 */
export interface Project {
  id: number; name: string; path: string; path_with_namespace?: string; repo_url: string;
  default_branch: string; runners_token?: string; created_at?: string;
}

export interface Pipeline {
  id: number; project_id: number; status: string; ref: string; tag?: boolean; sha: string;
  source?: string; created_at?: string; started_at?: string | null; finished_at?: string | null;
  duration?: number | null; web_url?: string;
}

export interface Job {
  id: number; name: string; stage: string; status: string; ref?: string; allow_failure?: boolean;
  duration?: number | null; failure_reason?: string | null;
  runner?: { id: number; description?: string | null } | null;
  pipeline?: { id: number; status?: string };
}

export interface Runner {
  id: number; description?: string | null; active?: boolean; paused?: boolean; is_shared?: boolean;
  runner_type?: string; tag_list?: string[]; online?: boolean | null; status?: string;
  contacted_at?: string | null; version?: string | null;
}

export interface User {
  id: number; username: string; name: string; state: string; email?: string | null; is_admin?: boolean;
  created_at?: string; last_sign_in_at?: string | null;
}

export interface Token {
  id: number; name: string; user_id: number; scopes: string[]; active: boolean; revoked: boolean;
  expires_at: string | null; last_used_at: string | null; created_at: string; token?: string;
}
