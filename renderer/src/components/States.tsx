/** The empty, loading and error states every screen uses, so they look and read the same everywhere. */
import type { ReactNode } from 'react';

export function Empty(props: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="empty" data-testid={props.testId}>
      <div className="big">{props.title}</div>
      {props.children}
    </div>
  );
}

export function Loading(props: { what: string }) {
  return (
    <div className="empty">
      <div className="row">
        <span className="spinner" /> {props.what}
      </div>
    </div>
  );
}

export function ErrorBox(props: { message: string; code?: string; action?: ReactNode; testId?: string }) {
  return (
    <div className="alert error" role="alert" data-testid={props.testId ?? 'error'}>
      <div className="grow">
        {props.message}
        {props.code && <div className="code">{props.code}</div>}
      </div>
      {props.action}
    </div>
  );
}
