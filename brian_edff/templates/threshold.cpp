{# USES_VARIABLES { N } #}
{#
brian_edff: a thresholder in two passes. The first evaluates the condition
of every neuron, Brian2's generated statements, into one byte per neuron:
a loop without branches or a running event count, which the compiler can
vectorise when the statements allow it (cpp_standalone's loop appends to the
eventspace inside the condition, so it never vectorises). The second walks
those bytes eight at a time and appends the neurons whose condition holds,
in index order, with the refractory bookkeeping cpp_standalone does. Same
statements in the same order (random numbers included), same events in the
same order: the result is cpp_standalone's. Most conditions hold for few
neurons (events gated off in a phase, sparse spikes), so the second pass
mostly tests words that are zero. A condition that calls a math function
with a vector form (device.may_vectorise) or draws random numbers (a call
per neuron, so the first pass could not vectorise and the second would only
add work; device.vectorisable) keeps cpp_standalone's loop.
#}
{% extends 'common_group.cpp' %}
{% block extra_headers %}
{{ super() }}
#include <cstring>
#include <vector>
{% endblock %}

{% block maincode %}
    {# not_refractory and lastspike are added as needed_variables in the
       Thresholder class (as in Brian2's template) #}
    {% set _eventspace = get_array_name(eventspace_variable) %}
    {# Appending neuron _idx to the events, as cpp_standalone does (a block
       variable, not a macro: Brian2 renders every macro of a template). #}
    {% set _append_event %}
{{_eventspace}}[_count++] = _idx;
{% if _uses_refractory %}
{{not_refractory}}[_idx] = false;
{{lastspike}}[_idx] = {{t}};
{% endif %}
    {% endset %}

    //// MAIN CODE ////////////
    // scalar code
    const int _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    long _count = 0;
    {% if edff_vectorisable(vector_code) %}
    const size_t _edff_words = (N + 7) / 8;
    static std::vector<unsigned char> _edff_condition_bytes;
    if (_edff_condition_bytes.size() != 8 * _edff_words)
        _edff_condition_bytes.assign(8 * _edff_words, 0);
    unsigned char* __restrict _edff_conditions = &_edff_condition_bytes[0];
    for(size_t _idx=0; _idx<N; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
        _edff_conditions[_idx] = _cond ? 1 : 0;
    }

    for(size_t _word=0; _word<_edff_words; _word++)
    {
        uint64_t _edff_bits;
        memcpy(&_edff_bits, _edff_conditions + 8 * _word, 8);
        if (_edff_bits == 0)
            continue;
        for(size_t _idx=8 * _word; _idx<8 * _word + 8; _idx++)
        {
            if(_edff_conditions[_idx]) {
                {{_append_event|autoindent}}
            }
        }
    }
    {% else %}
    // The condition calls a math function with a vector form: cpp_standalone's
    // loop, which the compiler keeps scalar.
    for(size_t _idx=0; _idx<N; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
        if(_cond) {
            {{_append_event|autoindent}}
        }
    }
    {% endif %}
    {{_eventspace}}[N] = _count;
{% endblock %}

{% block after_code %}
{% set _eventspace = get_array_name(eventspace_variable) %}
{{_eventspace}}[N] = 0;  // Note that this is not an off-by-1-error: the array has N+1 elements
{% endblock %}
