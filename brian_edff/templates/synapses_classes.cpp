{#
brian_edff: Brian2's SynapticPathway, extended with direct event delivery.

A pathway whose delays are all zero does not need a spike queue: the events
of this step are applied at once. `prepare` sorts the pathway's synapses into
rows, one row per source neuron (in synapse order, the order in which the
spike queue would deliver them); `set_events` takes this step's events
straight from the source's eventspace; the `synapses` template walks the rows
of the neurons that spiked. Rows stored contiguously (synapses created by
source neuron, as `connect` does) are walked as index ranges; where every
row also targets the whole target range in order (all-to-all), the target
index is arithmetic (`dense_rows`); rows of a pathway triggered by the other
side of such a projection (on_post), whose synapses are a constant stride
apart, are walked by that stride with arithmetic targets (`strided_rows`),
without loading a synapse or target index; contiguous rows that are not
all-to-all but consist of a few runs of consecutive targets (all-to-all
without the diagonal) are walked run by run, each with arithmetic targets
(`segmented_rows`). With OpenMP,
`prepare_split` cuts every row at the same target boundaries, so that each
thread owns a disjoint block of target neurons and every sum into a target
keeps its serial order. The number of threads is the run's, not the
build's: `brian_edff_synapse_threads()` reads `BRIAN_EDFF_SYNAPSE_THREADS`
once (1 where unset), so one build runs with any thread count. Pathways
with delays keep Brian2's spike queue.
#}
{% macro cpp_file() %}
{% endmacro %}

{% macro h_file() %}

#ifndef _BRIAN_SYNAPSES_H
#define _BRIAN_SYNAPSES_H

#include<vector>
#include<algorithm>
#include<stdint.h>
#include<cstdlib>
{{ openmp_pragma('include') }}

// brian_edff: threads of the synaptic event loops in this run, from the
// environment (the Python side sets it for every run; 1 where unset or not
// a positive integer). Results do not depend on it.
inline int brian_edff_synapse_threads()
{
	static const int n_threads = []() {
		const char *value = std::getenv("BRIAN_EDFF_SYNAPSE_THREADS");
		const int n = value ? std::atoi(value) : 1;
		return n >= 1 ? n : 1;
	}();
	return n_threads;
}

#include "brianlib/spikequeue.h"

class SynapticPathway
{
public:
	int Nsource, Ntarget, _nb_threads;
	std::vector<int> &sources;
	std::vector<int> all_peek;
	std::vector< CSpikeQueue * > queue;
	// brian_edff: direct delivery (see the template's header)
	int spikes_start, spikes_stop;
	bool direct, contiguous, split_by_target;
	bool dense_rows;                    // row k targets target_offset + 0, 1, 2 ... in order
	bool strided_rows;                  // not contiguous, but row synapses are base + k * row_stride
	                                    // and target target_offset + k (e.g. on_post of all-to-all)
	size_t row_stride;
	bool segmented_rows;                // contiguous, each row a few runs of consecutive targets
	std::vector<size_t> row_segments;   // n_rows + 1 indices into the segments
	std::vector<size_t> segment_first;  // first position of each run (+ sentinel)
	std::vector<size_t> segment_shift;  // target - position along each run
	int32_t target_offset;
	int split_threads;                  // threads the rows are split for
	std::vector<size_t> row_start;      // n_rows + 1 positions
	std::vector<int32_t> row_synapses;  // synapse at each position (if not contiguous)
	std::vector<size_t> row_split;      // n_rows x (_nb_threads + 1) positions
	const int32_t *events;
	int n_events;

	SynapticPathway(std::vector<int> &_sources, int _spikes_start, int _spikes_stop)
		: sources(_sources), spikes_start(_spikes_start), spikes_stop(_spikes_stop),
		  direct(false), contiguous(false), split_by_target(false), dense_rows(false),
		  strided_rows(false), row_stride(0), segmented_rows(false), target_offset(0), split_threads(1),
		  events(0), n_events(0)
	{
	   _nb_threads = {{ openmp_pragma('get_num_threads') }};

	   for (int _idx=0; _idx < _nb_threads; _idx++)
	       queue.push_back(new CSpikeQueue(_spikes_start, _spikes_stop));
    };

	~SynapticPathway()
	{
		for (int _idx=0; _idx < _nb_threads; _idx++)
			delete(queue[_idx]);
	}

	void push(int *spikes, int nspikes)
    {
    	queue[{{ openmp_pragma('get_thread_num') }}]->push(spikes, nspikes);
    }

	void advance()
    {
    	queue[{{ openmp_pragma('get_thread_num') }}]->advance();
    }

	vector<int32_t>* peek()
    {
    	{{ openmp_pragma('static-ordered') }}
		for(int _thread=0; _thread < {{ openmp_pragma('get_num_threads') }}; _thread++)
		{
			{{ openmp_pragma('ordered') }}
			{
    			if (_thread == 0)
					all_peek.clear();
				all_peek.insert(all_peek.end(), queue[_thread]->peek()->begin(), queue[_thread]->peek()->end());
    		}
    	}

    	return &all_peek;
    }

	// This step's events of the source population (a sorted eventspace),
	// restricted to the pathway's source range.
	void set_events(const int32_t *spikes, int nspikes)
	{
		const int32_t *first = std::lower_bound(spikes, spikes + nspikes, spikes_start);
		const int32_t *last = std::lower_bound(first, spikes + nspikes, spikes_stop);
		events = first;
		n_events = (int)(last - first);
	}

	// Synapses in the rows of this step's events (where to split them).
	size_t event_synapses() const
	{
		size_t n = 0;
		for (int _event = 0; _event < n_events; _event++)
		{
			const size_t _row = events[_event] - spikes_start;
			n += row_start[_row + 1] - row_start[_row];
		}
		return n;
	}

	size_t synapse_at(size_t position) const
	{
		return contiguous ? position : (size_t)row_synapses[position];
	}

    // brian_edff: what brian_edff's push_spikes template calls. Direct
    // delivery where no synapse has a delay; such a pathway never uses its
    // spike queue, so the queue is not prepared (that would copy every
    // synapse index into per-source lists). Other pathways: prepare().
    template <typename scalar> void prepare_direct(int n_source, int n_target, scalar *real_delays,
                 int n_delays, int *sources, int n_synapses, double _dt)
    {
        bool no_delays = true;
        for (int _i = 0; _i < n_delays; _i++)
            if (real_delays[_i] != 0)
            {
                no_delays = false;
                break;
            }
        if (!no_delays)
        {
            prepare(n_source, n_target, real_delays, n_delays, sources, n_synapses, _dt);
            return;
        }
        Nsource = n_source;
        Ntarget = n_target;
        direct = true;
        split_by_target = false;
        dense_rows = false;
        make_rows(sources, n_synapses);
    }

    // Brian2's preparation of the spike queue (what Brian2's own
    // push_spikes template calls, for pathways that keep Brian2's templates).
    template <typename scalar> void prepare(int n_source, int n_target, scalar *real_delays, int n_delays,
                 int *sources, int n_synapses, double _dt)
    {
        Nsource = n_source;
        Ntarget = n_target;
        direct = false;
        split_by_target = false;
        dense_rows = false;
    	{{ openmp_pragma('parallel') }}
    	{
            int length;
            if ({{ openmp_pragma('get_thread_num') }} == _nb_threads - 1)
                length = n_synapses - (int){{ openmp_pragma('get_thread_num') }}*(n_synapses/_nb_threads);
            else
                length = (int) n_synapses/_nb_threads;

            int padding  = {{ openmp_pragma('get_thread_num') }}*(n_synapses/_nb_threads);

            queue[{{ openmp_pragma('get_thread_num') }}]->openmp_padding = padding;
            if (n_delays > 1)
    		    queue[{{ openmp_pragma('get_thread_num') }}]->prepare(&real_delays[padding], length, &sources[padding], length, _dt);
    		else if (n_delays == 1)
    		    queue[{{ openmp_pragma('get_thread_num') }}]->prepare(&real_delays[0], 1, &sources[padding], length, _dt);
    		else  // no synapses
    		    queue[{{ openmp_pragma('get_thread_num') }}]->prepare((scalar *)NULL, 0, &sources[padding], length, _dt);
    	}
    }

	// Rows of synapses by source neuron, in synapse order (a stable counting sort).
	void make_rows(const int *sources, int n_synapses)
	{
		const size_t n_rows = spikes_stop - spikes_start;
		row_start.assign(n_rows + 1, 0);
		contiguous = true;
		for (int _i = 0; _i < n_synapses; _i++)
		{
			row_start[sources[_i] - spikes_start + 1]++;
			if (_i > 0 && sources[_i] < sources[_i - 1])
				contiguous = false;
		}
		for (size_t _row = 0; _row < n_rows; _row++)
			row_start[_row + 1] += row_start[_row];
		row_synapses.clear();
		if (!contiguous)
		{
			row_synapses.resize(n_synapses);
			std::vector<size_t> fill(row_start.begin(), row_start.end() - 1);
			for (int _i = 0; _i < n_synapses; _i++)
				row_synapses[fill[sources[_i] - spikes_start]++] = _i;
		}
	}

	// Where rows are stored contiguously and each targets every neuron of the
	// target range in order (all-to-all), the target of a synapse is
	// arithmetic: target_offset + (synapse - row start). Then cut the rows for
	// n_threads threads (prepare_split).
	void prepare_targets(const int32_t *targets, int target_start, int n_targets, int n_threads)
	{
		dense_rows = false;
		strided_rows = false;
		segmented_rows = false;
		if (!direct)
			return;
		target_offset = target_start;
		dense_rows = contiguous;
		const size_t n_rows = row_start.size() - 1;
		for (size_t _row = 0; _row < n_rows && dense_rows; _row++)
		{
			const size_t first = row_start[_row], last = row_start[_row + 1];
			if (last != first && last - first != (size_t)n_targets)
				dense_rows = false;
			for (size_t _p = first; _p < last && dense_rows; _p++)
				if (targets[_p] != target_start + (int32_t)(_p - first))
					dense_rows = false;
		}
		if (!contiguous)
			strided_rows = find_row_stride(targets, target_start, n_targets);
		segmented_rows = contiguous && !dense_rows && find_segments(targets);
		prepare_split(targets, target_start, n_targets, n_threads);
	}

	// Runs of consecutive targets along each row of a contiguous pathway (e.g.
	// all-to-all without the diagonal: two runs per row), where they are long
	// enough (8 synapses on average) to be worth walking as affine ranges.
	bool find_segments(const int32_t *targets)
	{
		const size_t n_rows = row_start.size() - 1;
		row_segments.assign(n_rows + 1, 0);
		segment_first.clear();
		segment_shift.clear();
		for (size_t _row = 0; _row < n_rows; _row++)
		{
			const size_t first = row_start[_row], last = row_start[_row + 1];
			for (size_t _p = first; _p < last; _p++)
				if (_p == first || targets[_p] != targets[_p - 1] + 1)
				{
					segment_first.push_back(_p);
					segment_shift.push_back((size_t)targets[_p] - _p);
				}
			row_segments[_row + 1] = segment_first.size();
		}
		segment_first.push_back(row_start[n_rows]);
		if (8 * (segment_first.size() - 1) <= row_start[n_rows])
			return true;
		row_segments.clear();  // too many short runs: not worth keeping
		segment_first.clear();
		segment_shift.clear();
		return false;
	}

	// Whether every non-empty row of a non-contiguous pathway targets every
	// neuron of the target range in order and holds synapses base + k * stride
	// with one stride (the on_post rows of an all-to-all projection stored by
	// source neuron); then sets row_stride.
	bool find_row_stride(const int32_t *targets, int target_start, int n_targets)
	{
		const size_t n_rows = row_start.size() - 1;
		bool found = false;
		for (size_t _row = 0; _row < n_rows; _row++)
		{
			const size_t first = row_start[_row], last = row_start[_row + 1];
			if (last == first)
				continue;
			if (last - first != (size_t)n_targets || n_targets < 2)
				return false;
			const int64_t stride = (int64_t)row_synapses[first + 1] - row_synapses[first];
			if (stride <= 0 || (found && (size_t)stride != row_stride))
				return false;
			row_stride = stride;
			found = true;
			for (size_t _p = first; _p < last; _p++)
			{
				const size_t synapse = row_synapses[_p];
				if (synapse != row_synapses[first] + (_p - first) * row_stride ||
				    targets[synapse] != target_start + (int32_t)(_p - first))
					return false;
			}
		}
		return found;
	}

	// Cut every row at the target boundaries of n_threads threads; only where
	// each row's targets are sorted, so that a thread's part of a row is a range.
	void prepare_split(const int32_t *targets, int target_start, int n_targets, int n_threads)
	{
		split_by_target = false;
		split_threads = n_threads;
		if (!direct || n_threads < 2)
			return;
		const size_t n_rows = row_start.size() - 1;
		const int stride = split_threads + 1;
		row_split.assign(n_rows * stride, 0);
		for (size_t _row = 0; _row < n_rows; _row++)
		{
			const size_t first = row_start[_row], last = row_start[_row + 1];
			int previous = -1;
			int thread = 0;
			row_split[_row * stride] = first;
			for (size_t _p = first; _p < last; _p++)
			{
				const int target = targets[synapse_at(_p)] - target_start;
				if (target < previous)
					return;  // unsorted row: the synapses run on one thread
				previous = target;
				while (thread < split_threads - 1 &&
				       (int64_t)target * split_threads >= (int64_t)(thread + 1) * n_targets)
				{
					thread++;
					row_split[_row * stride + thread] = _p;
				}
			}
			while (thread < split_threads)
			{
				thread++;
				row_split[_row * stride + thread] = last;
			}
		}
		split_by_target = true;
	}

};

#endif

{% endmacro %}
