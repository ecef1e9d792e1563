// The hugepage sizes this kernel supports, as the hugetlb cgroup files name them ("2MB").
import { readdirSync } from 'node:fs';
import { pageSizeFromKb } from './convert';

let sizes: string[] | undefined;

export function hugePageSizes(): string[] {
  if (sizes) return sizes;
  try {
    sizes = readdirSync('/sys/kernel/mm/hugepages')
      .map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1])
      .filter((kb): kb is string => kb !== undefined)
      .map((kb) => pageSizeFromKb(Number(kb)));
  } catch {
    sizes = [];
  }
  return sizes;
}
