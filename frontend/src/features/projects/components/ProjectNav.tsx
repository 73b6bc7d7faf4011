/**
 * The project list beside the tasks: all tasks, the Inbox, then the user's projects with their
 * open-task counts; archived projects fold away. Each entry is a link, so a project's view can
 * be bookmarked and reloaded.
 */
import { useState } from 'react';
import { navigate, paths } from '@/lib/router';
import type { Project } from '@/lib/types';
import { splitArchived, useProjects } from '../api';

interface Props {
  /** The project shown, or null for all tasks. */
  current: string | null;
  onAdd: () => void;
}

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

function Entry({ project, current }: { project: Project; current: string | null }) {
  return (
    <li>
      <NavLink href={paths.project(project.id)} current={current === project.id}>
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

export function ProjectNav({ current, onAdd }: Props) {
  const projects = useProjects();
  const [showArchived, setShowArchived] = useState(false);
  const { active, archived } = splitArchived(projects.data ?? []);
  return (
    <nav className="project-nav" aria-label="Projects">
      <ul>
        <li>
          <NavLink href={paths.app} current={current === null}>
            <span className="project-name">All tasks</span>
          </NavLink>
        </li>
        {active.map((p) => (
          <Entry key={p.id} project={p} current={current} />
        ))}
      </ul>
      <button type="button" className="btn btn-ghost add-project" onClick={onAdd}>
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
                <Entry key={p.id} project={p} current={current} />
              ))}
            </ul>
          )}
        </>
      )}
    </nav>
  );
}
