export {
  computeReport,
  median,
  rpoSeries,
  sourceReport,
  type ComplianceReport,
  type ReportInputs,
  type ReportPeriod,
  type SourceReport,
  type VerificationRecordInput,
} from './compute';
export { renderHtml } from './html';
export { renderMarkdown } from './markdown';
export { parsePeriod } from './period';
export { rpoTimelineSvg, rtoChartSvg } from './svg';
