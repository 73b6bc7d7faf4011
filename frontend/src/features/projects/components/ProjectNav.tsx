/**
 * The list beside the tasks: the views (all tasks, Today, Upcoming, Completed), the Inbox, then
 * the user's projects with their open-task counts; archived projects fold away. Each entry is a
 * link, so every view can be bookmarked and reloaded.
 */
import { useOnline } from '@/lib/online';
import { useState } from 'react';
import { navigate, paths } from '@/lib/router';
import type { Project } from '@/lib/types';
import { splitArchived, useProjects } from '../api';

interface Props {
  /** The path on screen; its entry is marked current. */
  path: string;
  onAdd: () => void;
}

const VIEWS = [
  { href: paths.app, label: 'All tasks' },
  { href: paths.today, label: 'Today' },
  { href: paths.upcoming, label: 'Upcoming' },
  { href: paths.completed, label: 'Completed' },
];

function NavLink({ href, current, children }: { href: string; current: boolean; children: React.ReactNode }) {
  return (
    <a
      href={href}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

function Entry({ project, path }: { project: Project; path: string }) {
  const href = paths.project(project.id);
  return (
    <li>
      <NavLink href={href} current={path === href}>
        <span className={`dot color-${project.color}`} aria-hidden="true" />
        <span className="project-name">{project.name}</span>
        {project.openTaskCount > 0 && (
          <span className="count" aria-label={`${project.openTaskCount} open`}>
            {project.openTaskCount}
          </span>
        )}
      </NavLink>
    </li>
  );
}

export function ProjectNav({ path, onAdd }: Props) {
  const projects = useProjects();
  const [showArchived, setShowArchived] = useState(false);
  const online = useOnline();
  const { active, archived } = splitArchived(projects.data ?? []);
  return (
    <nav className="project-nav" aria-label="Projects">
      <ul>
        {VIEWS.map((v) => (
          <li key={v.href}>
            <NavLink href={v.href} current={path === v.href}>
              <span className="project-name">{v.label}</span>
            </NavLink>
          </li>
        ))}
      </ul>
      <h2 className="nav-heading">Projects</h2>
      <ul>
        {active.map((p) => (
          <Entry key={p.id} project={p} path={path} />
        ))}
      </ul>
      <button type="button" className="btn btn-ghost add-project" onClick={onAdd} disabled={!online}>
        + Add project
      </button>
      {archived.length > 0 && (
        <>
          <button type="button" className="btn btn-ghost" aria-expanded={showArchived} onClick={() => setShowArchived((v) => !v)}>
            Archived ({archived.length})
          </button>
          {showArchived && (
            <ul>
              {archived.map((p) => (
                <Entry key={p.id} project={p} path={path} />
              ))}
            </ul>
          )}
        </>
      )}
    </nav>
  );
}
