{#
brian_edff: the synaptic event loop of a pathway.

The statements (`vector_code`) are Brian2's, generated from the model's
strings; only the loop around them differs from cpp_standalone's template,
and the index loads in it: within a row the source index is the spiking
neuron's, and where the target follows from the position (all-to-all rows,
runs of consecutive targets, strided on_post rows) it is computed.
A direct pathway (zero delay, see synapses_classes.cpp) walks the rows of
this step's spiking source neurons: all-to-all rows as index ranges with
arithmetic target indices, other contiguous rows as index ranges, the rest
through their list of synapses, in the order Brian2's spike queue
would deliver them. `edff_thread_safe` (set by the device) says that the
statements write only synaptic and target variables and draw no random
numbers; then, where the run asks for more than one thread
(`brian_edff_synapse_threads()`, read once from the environment, see
synapses_classes.cpp), that many OpenMP threads each apply the part of every
row that targets their own block of neurons (Brian2's own OpenMP setting stays off, so the
neuron code, and its random numbers, run as in a serial build). Otherwise the loop runs on one thread.
Pathways with delays use Brian2's spike queue, as cpp_standalone does.
#}
{% extends 'common_synapses.cpp' %}

{% set _non_synaptic = [] %}
{% for var in variables %}
    {% if variable_indices[var] not in ('_idx', '0') %}
        {# This is a trick to get around the scoping problem #}
        {% if _non_synaptic.append(1) %}{% endif %}
    {% endif %}
{% endfor %}
{% set _targets = '_synaptic_post' if pathway.prepost == 'pre' else '_synaptic_pre' %}
{% set _split = edff_thread_safe and not openmp_pragma('with_openmp') %}
{# All-to-all rows: the target index is arithmetic, not loaded (see
   SynapticPathway::prepare_targets), so the compiler sees contiguous
   target variables and can vectorise the row. #}
{% set _target_index = '_postsynaptic_idx' if pathway.prepost == 'pre' else '_presynaptic_idx' %}
{% set _target_load = 'const int32_t ' + _target_index + ' = ' + get_array_name(variables[_targets]) + '[_idx];' %}
{# Every synapse of a row has the row's source neuron (the neuron that spiked)
   as its source: the generated load of the source index is replaced by that
   neuron's index, so reads of source variables are loop-invariant (hoisted,
   no gather) and the row vectorises. #}
{% set _sources = '_synaptic_pre' if pathway.prepost == 'pre' else '_synaptic_post' %}
{% set _source_index = '_presynaptic_idx' if pathway.prepost == 'pre' else '_postsynaptic_idx' %}
{% set _source_load = 'const int32_t ' + _source_index + ' = ' + get_array_name(variables[_sources]) + '[_idx];' %}
{% set _row_code = edff_inline_math(vector_code) | autoindent | replace(_source_load, 'const int32_t ' + _source_index + ' = _row_source;') %}
{% set _dense_code = _row_code | replace(_target_load, 'const size_t ' + _target_index + ' = _idx + _dense_shift;') %}
{# Rows whose iterations are independent (device.independent_rows) and that
   call no math function with a vector form: rows of distinct targets (all-to-all
   rows, runs of consecutive targets) are declared free of loop-carried
   dependences, so gcc vectorises them without run-time alias checks. #}
{% set _ivdep = '#pragma GCC ivdep' if edff_independent_rows and edff_may_vectorise(vector_code) else '' %}
{% set _strided_code = _row_code | replace(_target_load, 'const size_t ' + _target_index + ' = _position + _strided_shift;') %}

{% block extra_headers %}
{{ super() }}
// Within a row the source neuron's variables are loop-invariant; with
// Brian2's -ffast-math gcc would then replace a division by one of them with
// a multiplication by its reciprocal, rounded differently from the division
// that cpp_standalone performs per synapse. Keep the division.
#pragma GCC optimize ("no-reciprocal-math")
// Under that pragma gcc does not inline the C++ library's inline functions
// (compiled with the file's other options), such as std::sqrt(float) or
// std::pow(double, int) (what Brian2's `x**2` becomes), and a row with a call
// stays scalar. The rows call these instead (device.inline_math): the same
// built-in functions, with the same overloads and promotions as std::sqrt
// and std::pow, defined under the pragma so that they inline. A square root
// is correctly rounded in vector form too, and pow(x, 2) is x * x.
static inline float _edff_sqrt(const float x) { return __builtin_sqrtf(x); }
static inline double _edff_sqrt(const double x) { return __builtin_sqrt(x); }
static inline long double _edff_sqrt(const long double x) { return __builtin_sqrtl(x); }
template <typename T> static inline double _edff_sqrt(const T x) { return __builtin_sqrt((double)x); }
static inline float _edff_pow(const float x, const float y) { return __builtin_powf(x, y); }
static inline double _edff_pow(const double x, const double y) { return __builtin_pow(x, y); }
static inline long double _edff_pow(const long double x, const long double y) { return __builtin_powl(x, y); }
template <typename T> static inline long double _edff_pow(const long double x, const T y) { return __builtin_powl(x, (long double)y); }
template <typename T> static inline long double _edff_pow(const T x, const long double y) { return __builtin_powl((long double)x, y); }
template <typename T, typename U> static inline double _edff_pow(const T x, const U y) { return __builtin_pow((double)x, (double)y); }
{% if edff_vector_width and pathway.prepost == 'pre' and edff_thread_safe and edff_may_vectorise(vector_code) %}
// Rows of float32 are memory-bound: let gcc use vectors of this width
// (device.VECTOR_WIDTH). Only for on_pre rows whose code writes only
// synaptic and target variables and calls no math function with a vector
// form: rows gcc vectorises at its default width too, now wider, with the
// same values. Not for a sum over a row into its source neuron (-ffast-math
// reassociates it by width) nor for the strided on_post rows (gathers that
// gcc vectorises only at 512 bits, and with -ffast-math differently
// contracted: one value in the last bit in tests/generic_network.py).
#pragma GCC target ("prefer-vector-width={{edff_vector_width}}")
{% endif %}
{% if _split %}
#include <omp.h>
{% endif %}
{% endblock %}

{# The statements over one row's positions _first .. _last - 1 (a block
   variable, not a macro: Brian2 renders every macro of a template). #}
{% set _row_loop %}
if (_pathway.dense_rows)
{
    // target = target_offset + (synapse - row start), in wrap-around size_t
    // arithmetic: an affine index the compiler vectorises
    const size_t _dense_shift = (size_t)_pathway.target_offset - _pathway.row_start[_row];
    {{_ivdep}}
    for (size_t _idx = _first; _idx < _last; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{_dense_code}}
    }
}
else if (_pathway.segmented_rows)
{
    // runs of consecutive targets: target = synapse + the run's shift
    const size_t _segment_stop = _pathway.row_segments[_row + 1];
    for (size_t _segment = _pathway.row_segments[_row]; _segment < _segment_stop; _segment++)
    {
        const size_t _dense_shift = _pathway.segment_shift[_segment];
        const size_t _run_first = _pathway.segment_first[_segment];
        const size_t _run_last = _pathway.segment_first[_segment + 1];
        const size_t _from = _run_first > _first ? _run_first : _first;
        const size_t _to = _run_last < _last ? _run_last : _last;
        {{_ivdep}}
        for (size_t _idx = _from; _idx < _to; _idx++)
        {
            const size_t _vectorisation_idx = _idx;
            {{_dense_code}}
        }
    }
}
else if (_pathway.contiguous)
{
    for (size_t _idx = _first; _idx < _last; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{_row_code}}
    }
}
else if (_pathway.strided_rows)
{
    // synapse = row base + k * stride, target = target_offset + k, for the
    // row's k-th position: no load of the synapse or of its target
    const size_t _row_first = _pathway.row_start[_row];
    const size_t _row_base = _pathway.row_synapses[_row_first];
    const size_t _stride = _pathway.row_stride;
    const size_t _strided_shift = (size_t)_pathway.target_offset - _row_first;
    for (size_t _position = _first; _position < _last; _position++)
    {
        const size_t _idx = _row_base + (_position - _row_first) * _stride;
        const size_t _vectorisation_idx = _idx;
        {{_strided_code}}
    }
}
else
{
    const int32_t * const _row_synapses = &(_pathway.row_synapses[0]);
    for (size_t _position = _first; _position < _last; _position++)
    {
        const size_t _idx = _row_synapses[_position];
        const size_t _vectorisation_idx = _idx;
        {{_row_code}}
    }
}
{% endset %}

{% set _all_rows %}
for (int _event = 0; _event < _n_events; _event++)
{
    const int32_t _row_source = _events[_event];
    const size_t _row = _row_source - _pathway.spikes_start;
    const size_t _first = _pathway.row_start[_row];
    const size_t _last = _pathway.row_start[_row + 1];
    {{ _row_loop }}
}
{% endset %}

{% block before_code %}
    {# USES_VARIABLES { _synaptic_pre, _synaptic_post } #}
    {
        std::vector<int32_t> &_targets = {{get_array_name(variables[_targets], access_data=False)}};
        {{pathway.name}}.prepare_targets(_targets.empty() ? 0 : &(_targets[0]),
                                         {{pathway.target.start}},
                                         {{pathway.target.stop - pathway.target.start}},
                                         {{'brian_edff_synapse_threads()' if _split else 1}});
    }
{% endblock %}

{% block maincode %}

    // This is only needed for the _debugmsg function below
    {# USES_VARIABLES { _synaptic_pre } #}

    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    SynapticPathway &_pathway = {{pathway.name}};
    if (_pathway.direct)
    {
        const int32_t * const _events = _pathway.events;
        const int _n_events = _pathway.n_events;
        {% if _split %}
        if (_pathway.split_by_target && _pathway.split_threads > 1 && _n_events > 0{% if edff_min_parallel > 0 %}
            && _pathway.event_synapses() >= {{edff_min_parallel}}{% endif %})
        {
            #pragma omp parallel num_threads(_pathway.split_threads)
            {
                const int _thread = omp_get_thread_num();
                const int _stride = _pathway.split_threads + 1;
                const size_t * const _row_split = &(_pathway.row_split[0]);
                for (int _event = 0; _event < _n_events; _event++)
                {
                    const int32_t _row_source = _events[_event];
                    const size_t _row = _row_source - _pathway.spikes_start;
                    const size_t _first = _row_split[_row * _stride + _thread];
                    const size_t _last = _row_split[_row * _stride + _thread + 1];
                    {{ _row_loop }}
                }
            }
        }
        else
        {
            {{ _all_rows }}
        }
        {% else %}
        {{ _all_rows }}
        {% endif %}
    }
    else
    {
    {{ openmp_pragma('parallel') }}
    {
    std::vector<int> *_spiking_synapses = {{pathway.name}}.peek();
    const int _num_spiking_synapses = _spiking_synapses->size();

    {% if _non_synaptic %}
    {{ openmp_pragma('master') }}
    {
        for(int _spiking_synapse_idx=0;
            _spiking_synapse_idx<_num_spiking_synapses;
            _spiking_synapse_idx++)
        {
            const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
        }
    }
    {% else %}
    {{ openmp_pragma('static') }}
    for(int _spiking_synapse_idx=0;
        _spiking_synapse_idx<_num_spiking_synapses;
        _spiking_synapse_idx++)
    {
        const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }

    {% endif %}
    }
    }
{% endblock %}


{% block extra_functions_cpp %}
void _debugmsg_{{codeobj_name}}()
{
    using namespace brian;
    std::cout << "Number of synapses: " << {{_dynamic__synaptic_pre}}.size() << endl;
}
{% endblock %}

{% block extra_functions_h %}
void _debugmsg_{{codeobj_name}}();
{% endblock %}

{% macro main_finalise() -%}
#ifdef DEBUG
_debugmsg_{{codeobj_name}}();
#endif
{% endmacro %}
