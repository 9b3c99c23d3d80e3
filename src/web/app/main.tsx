/**
 * @module web/app/main
 * The bundle's entry: renders the console into #app. Why Preact: components and hooks as in
 * React at 4 KB, typed by tsc, text escaped by default (no HTML strings anywhere); uPlot draws
 * the charts (small, fast canvas charts, no dependencies). esbuild bundles both
 * (scripts/build-web.mjs) into files the admin listener serves under a strict CSP.
 * Touches: the DOM.
 */
import { render } from 'preact';
import { App } from './app.tsx';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
