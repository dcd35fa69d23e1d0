// Types of scripts/renderer-build.mjs (plain JS so that `npm start` can use it without tsx).
export interface RendererBuildState {
  state: 'current' | 'missing' | 'stale';
  reason?: string;
  canBuild: boolean;
}
export const RENDERER_INPUTS_FILE: string;
export const RENDERER_BUILD_COMMAND: string;
export function rendererBuildState(root: string): RendererBuildState;
export function buildRenderer(root: string): boolean;
export function prepareRenderer(root: string, opts?: { build?: (root: string) => boolean; log?: (line: string) => void }): RendererBuildState;
