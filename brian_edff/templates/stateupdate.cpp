{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{#
brian_edff: Brian2's state-update loop (state updaters and run_regularly
operations), with the loads of shared values (index 0: variables linked to a
one-cell group, such as a layer summary) that the loop does not write moved
before it (device.hoist_shared_loads). cpp_standalone reloads them in every
iteration, through a pointer it cannot mark __restrict, so its loop does not
vectorise; the values are the same, so are the results. Code that calls a
math function with a vector form is left as Brian2 renders it.
#}
{% extends 'common_group.cpp' %}

{% block maincode %}
    {% set _shared_loads, _loop_code = edff_hoist_shared_loads(vector_code) %}
    //// MAIN CODE ////////////
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}
    {% if _shared_loads %}
    // shared values the loop reads and does not write (brian_edff)
    {{_shared_loads|autoindent}}
    {% endif %}

    {# N is a constant in most cases (NeuronGroup, etc.), but a scalar array for
       synapses, we therefore have to take care to get its value in the right
       way. #}
    const int _N = {{constant_or_scalar('N', variables['N'])}};
    {{openmp_pragma('parallel-static')}}
    for(int _idx=0; _idx<_N; _idx++)
    {
        // vector code
        const size_t _vectorisation_idx = _idx;
        {{_loop_code|autoindent}}
    }
{% endblock %}
