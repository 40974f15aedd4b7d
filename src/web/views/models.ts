/**
 * What the shared views draw, as plain shapes: the REST API's JSON (rest-api/presenters.ts)
 * fits them. They are written out here so the browser code type-checks without the server's
 * modules (src/web/client/tsconfig.json).
 */
export interface JobView {
  id: number;
  name: string;
  stage: string;
  status: string;
  ref: string;
  allow_failure: boolean;
  started_at: string | null;
  finished_at: string | null;
  duration: number | null;
  queued_duration: number | null;
  failure_reason?: string;
  runner: { id: number; description: string } | null;
  artifacts_file: { filename: string; size: number } | null;
  artifacts_expire_at: string | null;
  web_url: string;
  pending_reason: string | null;
}

/** A job on the pipeline graph: with the names of the jobs it needs (null: it waits for its stage). */
export interface GraphJob extends JobView { needs: string[] | null }

export interface PipelineView {
  id: number;
  status: string;
  duration: number | null;
  started_at: string | null;
  finished_at: string | null;
}

/** The `pipeline` event of the pipeline stream (rest-api/streams.ts). */
export interface PipelineSnapshotView { pipeline: PipelineView; jobs: GraphJob[] }
